/**
 * Everything the keynote needs, started in one process with no set-up: a gatekeeper (built by the real server
 * builder from a generated gatekeeper.yaml, with the OAGF standard library and the demo's policy settings), a
 * scripted OpenAI-compatible model, the ERP, and a receiver for notices. State lives in `dir`.
 */
import { createServer } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { generateKey } from '@oagf/ledger';
import { hashPassword } from '../approvals/accounts.js';
import { approvalsModule } from '../approvals/module.js';
import type { ApprovalService } from '../approvals/service.js';
import { hashApiKey } from '../auth/agents.js';
import { parseConfig } from '../config/load.js';
import { buildServer, MODULES, type Gatekeeper } from '../server.js';
import { startErp, type Erp } from './erp.js';
import { startScriptedModel, type ScriptedModel } from './model.js';
import { startNoticeSink, type NoticeSink } from './notices.js';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

export const DEMO_ACCOUNTS = [
  { username: 'priya', password: 'gatekeeper', roles: ['reviewer'], groups: ['procurement-leads'], display_name: 'Priya Raman (procurement lead)' },
  { username: 'dana', password: 'gatekeeper', roles: ['reviewer'], groups: ['procurement-leads'], display_name: 'Dana Wu (owns the agents)' },
  { username: 'audrey', password: 'gatekeeper', roles: ['auditor'], groups: [], display_name: 'Audrey Kim (auditor)' },
] as const;

export const AGENT_KEYS = { planner: 'planner-demo-key', buyer: 'buyer-demo-key' } as const;

/** HTTP Basic credentials of a demo account. */
export const basic = (user: string) => `Basic ${Buffer.from(`${user}:${DEMO_ACCOUNTS.find((a) => a.username === user)!.password}`).toString('base64')}`;

export interface DemoOptions {
  dir: string;
  /** 0 picks a free port. */
  port: number;
  mode: 'hold' | 'async';
  holdTimeoutS: number;
  /** Called for each notice the local receiver gets. */
  onNotice?: (line: string) => void;
}

export interface DemoWorld {
  gatekeeperUrl: string;
  consoleUrl: string;
  configFile: string;
  ledgerFile: string;
  ledgerKey: string;
  /** The policy bundle's directories (the OAGF library and the keynote's settings). */
  policyDirs: string[];
  approvals: ApprovalService;
  erp: Erp;
  model: ScriptedModel;
  notices: NoticeSink;
  close(): Promise<void>;
}

export async function startDemo(o: DemoOptions): Promise<DemoWorld> {
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  const closers: (() => Promise<void>)[] = [];
  try {
    const erpToken = randomBytes(16).toString('hex');
    const webhookSecret = randomBytes(16).toString('hex');
    const erp = await startErp(erpToken);
    closers.push(() => erp.close());
    const model = await startScriptedModel();
    closers.push(() => model.close());
    const notices = await startNoticeSink(webhookSecret, o.onNotice ?? (() => {}));
    closers.push(() => notices.close());

    const key = generateKey('gatekeeper-demo.local/ledger');
    writeFileSync(join(o.dir, 'ledger.skey'), `${key.skey}\n`, { mode: 0o600 });
    writeFileSync(join(o.dir, 'ledger.vkey'), `${key.vkey}\n`);
    const port = o.port || (await freePort());
    const configFile = join(o.dir, 'gatekeeper.yaml');
    const yaml = await demoConfig({ port, erpUrl: erp.url, modelUrl: model.url, noticeUrl: notices.url, mode: o.mode, holdTimeoutS: o.holdTimeoutS });
    writeFileSync(configFile, yaml);

    let approvals: ApprovalService | undefined;
    const env = { ...process.env, ERP_TOKEN: erpToken, DEMO_WEBHOOK_SECRET: webhookSecret };
    const modules = MODULES.map((m) => (m.name === 'approvals' ? approvalsModule({ env, onReady: (s) => (approvals = s) }) : m));
    const gk: Gatekeeper = await buildServer(parseConfig(yaml, configFile), { env, modules, logger: pino({ level: 'silent' }) });
    closers.push(() => gk.close());
    const gatekeeperUrl = await gk.listen().catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; pass --port <n>, or --port 0 for any free port`) : err;
    });
    return {
      gatekeeperUrl,
      consoleUrl: `${gatekeeperUrl}/console`,
      configFile,
      ledgerFile: join(o.dir, 'ledger.db'),
      policyDirs: [join(REPO, 'policies'), join(REPO, 'examples/keynote/policy')],
      ledgerKey: key.vkey,
      approvals: approvals!,
      erp,
      model,
      notices,
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

export async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers.reverse()) await close();
}

/** The demo's console accounts as `approvals.accounts` YAML lines. */
export async function accountsYaml(): Promise<string> {
  const accounts = await Promise.all(
    DEMO_ACCOUNTS.map(
      async (a) => `    - username: ${a.username}
      password_hash: "${await hashPassword(a.password)}"
      roles: [${a.roles.join(', ')}]
      groups: [${a.groups.join(', ')}]
      display_name: "${a.display_name}"`,
    ),
  );
  return accounts.join('\n');
}

async function demoConfig(c: { port: number; erpUrl: string; modelUrl: string; noticeUrl: string; mode: 'hold' | 'async'; holdTimeoutS: number }): Promise<string> {
  return `# Generated by \`gatekeeper demo\`: the keynote deployment on the embedded default (SQLite, local files).
listen: 127.0.0.1:${c.port}

agents:
  - { id: planner, owner: dana, team: supply-chain, api_keys: ["${hashApiKey(AGENT_KEYS.planner)}"] }
  - { id: buyer, owner: dana, team: supply-chain, api_keys: ["${hashApiKey(AGENT_KEYS.buyer)}"] }

llm:
  upstreams:
    - { name: scripted, base_url: "${c.modelUrl}" }
  default: scripted

apis:
  erp:
    base_url: "${c.erpUrl}"
    headers:
      authorization: { env: ERP_TOKEN, prefix: "Bearer " }

# The order's amount: in the place_order tool call the model proposes (checked against the hard ceiling) and in
# the buyer's POST /orders to the ERP, where it is committed (the $1M limit escalates there).
amounts:
  - match: { tool: place_order }
    value: arguments.total
    currency_from: arguments.currency
  - match: { api: erp, method: POST, path: /orders }
    value: body.total
    currency_from: body.currency

policy:
  bundle: ["${join(REPO, 'policies')}", "${join(REPO, 'examples/keynote/policy')}"]
  watch: false

ledger:
  path: ledger.db
  signing_key_file: ledger.skey
  origin: gatekeeper-demo.local/ledger

budgets:
  store: { sqlite: budgets.db }
  currency: USD
  prices:
    gpt-4.1-mini: { input: "0.40", output: "1.60" }
  limits:
    - { id: buyer-orders-monthly, scope: agent, subject: buyer, meter: action_amount, kinds: [http.request], window: month, cap: "5000000" }
    - { id: supply-chain-llm-daily, scope: team, subject: supply-chain, meter: llm_spend, window: day, cap: "25.00" }

approvals:
  database: approvals.db
  signing_key_file: approval-key.pem
  expiry_s: 900
  hold_timeout_s: ${c.holdTimeoutS}
  retry_after_s: 2
  modes: { openai: hold, api: ${c.mode}, decision: async, mcp: hold }
  console: { public_url: "http://127.0.0.1:${c.port}/console" }
  notices:
    teams: [{ url: "${c.noticeUrl}/teams" }]
    webhooks: [{ url: "${c.noticeUrl}/webhook", secret_env: DEMO_WEBHOOK_SECRET }]
  accounts:
${await accountsYaml()}
`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
