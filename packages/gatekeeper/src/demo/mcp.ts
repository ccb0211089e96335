/**
 * `gatekeeper demo mcp`: the buyer agent works on the procurement share through an MCP server (the official
 * filesystem server, spawned by the gatekeeper over stdio) and talks to it only through the gatekeeper's `/mcp`
 * with the official SDK client. It sees only the tools it may call, reads a file, is refused a tool it may not use
 * (the file stays where it is), and its write — a destructive tool — is held until a reviewer decides. Then the
 * audit: the verdict and its escalation proven against the signed checkpoint, the whole ledger verified offline.
 */
import { Command, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { generateKey } from '@oagf/ledger';
import { approvalsModule } from '../approvals/module.js';
import type { ApprovalService } from '../approvals/service.js';
import type { Approval } from '../approvals/types.js';
import { hashApiKey } from '../auth/agents.js';
import { parseConfig } from '../config/load.js';
import { buildServer, MODULES } from '../server.js';
import { reviewAutomatically } from './run.js';
import { auditLedger, auditVerdict } from './verify.js';
import { accountsYaml, AGENT_KEYS, closeAll, freePort, REPO } from './world.js';

export interface McpDemoOptions {
  auto?: 'approve' | 'reject';
  dir: string;
  port: number;
  print: (line: string) => void;
}

export interface McpDemoOutcome {
  ok: boolean;
  approval?: Approval;
  ledgerEntries?: number;
  problems: string[];
}

const SUPPLIERS = '# Suppliers\n\n| supplier | part | lead time |\n|---|---|---|\n| Acme Fasteners | M8 bolts | 3 weeks |\n| Ohio Steel | sheet steel | 6 weeks |\n';
const DRAFT = 'Order draft: 40,000 M8 bolts from Acme Fasteners, delivery in 3 weeks.\n';
const HOLD_TIMEOUT_S = { auto: 60, interactive: 280 };
const COMMENTS = { approve: 'Draft is fine to share with the team.', reject: 'Not yet: wait for the second quote before writing drafts.' };

export async function runMcpDemo(o: McpDemoOptions): Promise<McpDemoOutcome> {
  const say = o.print;
  const problems: string[] = [];
  say('Gatekeeper MCP demo: the buyer agent uses the procurement share through an MCP server, every call decided.');
  const world = await startMcpWorld(o);
  let approval: Approval | undefined;
  try {
    say(`  gatekeeper  ${world.url}/mcp   (config ${world.configFile})`);
    say(`  MCP server  files: @modelcontextprotocol/server-filesystem on ${world.share} (stdio, spawned by the gatekeeper)`);
    say('');
    const agent = new Client({ name: 'buyer-agent', version: '1.0.0' });
    agent.setNotificationHandler('notifications/message', (n) => say(`  buyer   is told: ${String(n.params.data)}`));
    await agent.connect(new StreamableHTTPClientTransport(new URL(`${world.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${AGENT_KEYS.buyer}` } } }));
    try {
      const { tools } = await agent.listTools();
      say(`  buyer   tools/list: ${tools.map((t) => t.name).join(', ')}`);
      if (tools.some((t) => t.name === 'files__move_file')) problems.push('tools/list showed a tool the buyer may not call');

      const read = await call(agent, 'files__read_text_file', { path: join(world.share, 'suppliers.md') }, say);
      if (read.isError || !text(read).includes('Acme Fasteners')) problems.push(`reading suppliers.md failed: ${text(read)}`);

      const moved = await call(agent, 'files__move_file', { source: join(world.share, 'suppliers.md'), destination: join(world.share, 'old.md') }, say);
      if (!moved.isError) problems.push('move_file was carried out although the buyer may not call it');
      if (!existsSync(join(world.share, 'suppliers.md'))) problems.push('suppliers.md was moved: a denied call reached the server');

      const draft = join(world.share, 'order-draft.md');
      const opened = new Promise<Approval>((r) => world.approvals.once('created', r));
      const writing = call(agent, 'files__write_file', { path: draft, content: DRAFT }, say);
      approval = await Promise.race([opened, writing.then(() => undefined)]);
      if (!approval) throw new Error('write_file was not escalated: the standard library escalates destructive MCP tools');
      say('');
      say(`>> ESCALATED: ${approval.summary} by ${approval.agentId} (owner ${approval.agentOwner}) — approval ${approval.id}`);
      for (const r of (approval.decision as { reasons?: string[] }).reasons ?? []) say(`   policy: ${r}`);
      say(`   the call is held open; ${existsSync(draft) ? 'the file is ALREADY written' : 'nothing is written'} until a reviewer decides`);
      say('');
      if (o.auto) await reviewAutomatically(world.consoleUrl, approval.id, o.auto, COMMENTS[o.auto], say, problems);
      else printHelp(world.consoleUrl, approval, say);
      const written = await writing;
      approval = (await world.approvals.get(approval.id))!;
      say('');
      say(`>> ${approval.status.toUpperCase()} by ${approval.votes.map((v) => v.reviewer).join(', ') || 'nobody'}; order-draft.md ${existsSync(draft) ? 'written' : 'not written'}`);
      checkWrite(approval, written, draft, o.auto, problems);
    } finally {
      await agent.close();
    }
    await auditVerdict(world.consoleUrl, world.ledgerKey, approval, say, problems);
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    await world.close();
  }
  const entries = await auditLedger(world.ledgerFile, world.ledgerKey, say, problems, 'every MCP call was decided as designed');
  return { ok: problems.length === 0, ...(approval ? { approval } : {}), ledgerEntries: entries, problems };
}

async function call(agent: Client, name: string, args: Record<string, unknown>, say: (l: string) => void): Promise<CallToolResult> {
  say(`  buyer   calls ${name}(${JSON.stringify(args)})`);
  // A held call stays open until the reviewer decides: longer than the SDK's default request timeout.
  const result = (await agent.callTool({ name, arguments: args }, { timeout: HOLD_TIMEOUT_S.interactive * 1000 + 10_000 })) as CallToolResult;
  say(`  buyer   ${result.isError ? 'is refused' : 'gets'}: ${text(result).split('\n')[0]}`);
  return result;
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');

function checkWrite(approval: Approval, result: CallToolResult, draft: string, expected: 'approve' | 'reject' | undefined, problems: string[]) {
  const verdict = expected ?? (approval.status === 'approved' ? 'approve' : 'reject');
  if (verdict === 'approve') {
    if (approval.status !== 'approved') problems.push(`expected the approval to be approved, it is ${approval.status}`);
    if (!approval.consumedAt) problems.push('the approved write was not carried out');
    if (result.isError || !existsSync(draft) || readFileSync(draft, 'utf8') !== DRAFT) problems.push(`the approved write did not write the draft: ${text(result)}`);
  } else {
    if (!['rejected', 'expired'].includes(approval.status)) problems.push(`expected the approval to be rejected, it is ${approval.status}`);
    if (!result.isError) problems.push('the rejected write was answered as a success');
    if (existsSync(draft)) problems.push('the rejected write reached the MCP server: the draft exists');
  }
}

function printHelp(consoleUrl: string, approval: Approval, say: (l: string) => void) {
  say(`Decide it in the reviewer console:  ${consoleUrl}/requests/${approval.id}`);
  say('  sign in as  priya / gatekeeper (may approve) · dana / gatekeeper (owns the agent: may not) · audrey / gatekeeper (auditor)');
  say('Waiting for the decision…');
}

interface McpWorld {
  url: string;
  consoleUrl: string;
  configFile: string;
  share: string;
  ledgerFile: string;
  ledgerKey: string;
  approvals: ApprovalService;
  close(): Promise<void>;
}

/** The gatekeeper (real server builder, generated gatekeeper.yaml) with the filesystem server on `<dir>/share`. */
async function startMcpWorld(o: McpDemoOptions): Promise<McpWorld> {
  rmSync(o.dir, { recursive: true, force: true });
  const share = join(o.dir, 'share');
  mkdirSync(share, { recursive: true });
  mkdirSync(join(o.dir, 'policy'));
  writeFileSync(join(share, 'suppliers.md'), SUPPLIERS);
  const key = generateKey('gatekeeper-demo.local/ledger');
  writeFileSync(join(o.dir, 'ledger.skey'), `${key.skey}\n`, { mode: 0o600 });
  writeFileSync(join(o.dir, 'ledger.vkey'), `${key.vkey}\n`);
  writeFileSync(join(o.dir, 'policy', 'data.yaml'), stringify({ config: { approvers: { groups: ['procurement-leads'] }, agents: { buyer: { mcp: { servers: { files: { tools: ['read_text_file', 'list_directory', 'write_file'] } } } } } } }));
  const port = o.port || (await freePort());
  const configFile = join(o.dir, 'gatekeeper.yaml');
  const yaml = `# Generated by \`gatekeeper demo mcp\`.
listen: 127.0.0.1:${port}
agents:
  - { id: buyer, owner: dana, team: supply-chain, api_keys: ["${hashApiKey(AGENT_KEYS.buyer)}"] }
policy:
  bundle: ${JSON.stringify([join(REPO, 'policies'), join(o.dir, 'policy')])}
  watch: false
ledger:
  path: ledger.db
  signing_key_file: ledger.skey
  origin: gatekeeper-demo.local/ledger
mcp:
  servers:
    files:
      stdio: ${JSON.stringify(filesystemServer(share))}
approvals:
  database: approvals.db
  signing_key_file: approval-key.pem
  hold_timeout_s: ${o.auto ? HOLD_TIMEOUT_S.auto : HOLD_TIMEOUT_S.interactive}
  modes: { mcp: hold }
  console: { public_url: "http://127.0.0.1:${port}/console" }
  accounts:
${await accountsYaml()}
`;
  writeFileSync(configFile, yaml);
  let approvals: ApprovalService | undefined;
  const modules = MODULES.map((m) => (m.name === 'approvals' ? approvalsModule({ onReady: (s) => (approvals = s) }) : m));
  const gk = await buildServer(parseConfig(yaml, configFile), { modules, logger: pino({ level: 'silent' }) });
  const closers = [() => gk.close()];
  const url = await gk.listen().catch(async (err: NodeJS.ErrnoException) => {
    await closeAll(closers);
    throw err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; pass --port <n>, or --port 0 for any free port`) : err;
  });
  return { url, consoleUrl: `${url}/console`, configFile, share, ledgerFile: join(o.dir, 'ledger.db'), ledgerKey: key.vkey, approvals: approvals!, close: () => closeAll(closers) };
}

/** The installed filesystem server when there is one (a checkout), else the published one through npx. */
function filesystemServer(share: string): { command: string; args: string[] } {
  try {
    const entry = createRequire(join(REPO, 'package.json')).resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
    return { command: process.execPath, args: [entry, share] };
  } catch {
    return { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', share] };
  }
}

export function mcpDemoCommand(): Command {
  return new Command('mcp')
    .description('an agent uses an MCP server only through the gatekeeper: tools/list filtered, calls decided, a destructive call held for a reviewer')
    .addOption(new Option('--auto <verdict>', 'play the reviewer too, unattended; exit 0 only if the story ran as designed').choices(['approve', 'reject']))
    .option('--dir <dir>', 'where the demo keeps its files, ledger and databases (wiped at each start)', '.gatekeeper-demo-mcp')
    .option('--port <port>', 'gatekeeper port (0 = any free port)', '8787')
    .action(async (opts: { auto?: 'approve' | 'reject'; dir: string; port: string }) => {
      const outcome = await runMcpDemo({ ...(opts.auto ? { auto: opts.auto } : {}), dir: resolve(opts.dir), port: Number(opts.port), print: (l) => console.log(l) });
      process.exitCode = outcome.ok ? 0 : 1;
    });
}
