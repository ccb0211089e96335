/**
 * Gatekeeper replicas as separate `gatekeeper serve --workers 1` processes on one PostgreSQL schema, as a Deployment runs them:
 * one gatekeeper.yaml, one ledger key, one approval key; each process its own port. A replica reports its URL (the
 * "listening" line); its /readyz says whether it integrates the ledger.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey } from '@oagf/ledger';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/approvals/accounts.js';
import { hashApiKey } from '../../src/auth/agents.js';
import { KEYS, SETTINGS, STDLIB } from '../core/fixture.js';
import { PG_URL } from './postgres.js';

const PKG = fileURLToPath(new URL('../..', import.meta.url));
export const ORIGIN = 'replicas.test/ledger';
export const REVIEWER = { username: 'rita', password: 'rita-pw' };

export interface Cluster {
  dir: string;
  config: string;
  ledgerKey: { skey: string; vkey: string };
  schema: string;
  remove(): void;
}

/**
 * Writes the shared configuration: PostgreSQL storage, the OAGF library policy, approvals, a budget for `planner`;
 * `extra.agents` adds policy settings per agent, `extra.config` top-level sections (e.g. `sessions`).
 */
export async function clusterConfig(schema: string, erpUrl: string, budgetCap: string, extra: { agents?: Record<string, object>; config?: Record<string, unknown> } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-replicas-'));
  mkdirSync(join(dir, 'policy'));
  // The planner places the budgeted orders: it needs a spending limit of its own, like the buyer.
  const settings = structuredClone(SETTINGS);
  const agents = settings.config.agents as Record<string, object>;
  agents.planner = { limits: [{ api: 'erp', method: 'POST', path: '/orders', currency: 'USD', escalate_above: 1_000_000, deny_above: 5_000_000 }] };
  for (const [id, more] of Object.entries(extra.agents ?? {})) agents[id] = { ...agents[id], ...more };
  writeFileSync(join(dir, 'policy', 'data.yaml'), stringify(settings));
  const ledgerKey = generateKey(ORIGIN);
  writeFileSync(join(dir, 'ledger.skey'), ledgerKey.skey);
  // Created up front: replicas starting together must not each create their own approval key.
  writeFileSync(join(dir, 'approval.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const config = {
    listen: '127.0.0.1:0',
    agents: [
      { id: 'buyer', owner: 'dana', team: 'supply-chain', api_keys: [hashApiKey(KEYS.buyer)] },
      { id: 'planner', owner: 'dana', team: 'supply-chain', api_keys: [hashApiKey(KEYS.planner)] },
    ],
    amounts: [
      { match: { tool: 'place_order' }, value: 'arguments.total', currency: 'USD' },
      { match: { api: 'erp', method: 'POST', path: '/orders' }, value: 'body.total', currency: 'USD' },
    ],
    apis: { erp: { base_url: erpUrl } },
    policy: { bundle: [STDLIB, './policy'] },
    ledger: { signing_key_file: './ledger.skey', origin: ORIGIN, checkpoint_every: { ms: 200 } },
    storage: { postgres: { url: PG_URL, schema, pool: { max: 8, ledger_max: 4 } } },
    admin: { public_ledger: true },
    logging: { level: 'warn', requests: false },
    approvals: {
      signing_key_file: './approval.pem',
      accounts: [{ username: REVIEWER.username, password_hash: await hashPassword(REVIEWER.password, { N: 1024, r: 8, p: 1 }), roles: ['reviewer'], groups: ['procurement-leads'] }],
      modes: { api: 'hold' },
      hold_timeout_s: 60,
    },
    budgets: { limits: [{ id: 'planner-orders', scope: 'agent', subject: 'planner', meter: 'action_amount', window: 'day', cap: budgetCap, kinds: ['http.request'] }] },
    ...extra.config,
  };
  const file = join(dir, 'gatekeeper.yaml');
  writeFileSync(file, stringify(config));
  return { dir, config: file, ledgerKey, schema, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class Replica {
  readonly child: ChildProcess;
  url = '';
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';

  constructor(
    readonly name: string,
    cluster: Cluster,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', 'src/cli.ts', 'serve', '--config', cluster.config, '--workers', '1'], {
      cwd: PKG,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      lines(this.child.stderr!, (line) => {
        this.stderr += `${line}\n`;
        const listening = /gatekeeper listening on (\S+)/.exec(line);
        if (listening) {
          this.url = listening[1]!;
          resolve();
        }
      });
      void this.exited.then(({ code, signal }) => reject(new Error(`replica ${name} exited before it was ready (code ${code}, signal ${signal}): ${this.stderr}`)));
    });
    this.ready.catch(() => undefined);
  }

  /** Whether this replica integrates the ledger now, as its /readyz says. */
  async integrates(): Promise<boolean> {
    const res = await fetch(`${this.url}/readyz`).catch(() => undefined);
    const body = (await res?.json().catch(() => undefined)) as { storage?: { ledger_integrator?: boolean } } | undefined;
    return body?.storage?.ledger_integrator === true;
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

function lines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (buffered + chunk).split('\n');
    buffered = parts.pop()!;
    parts.forEach(each);
  });
}

export function waitFor<T>(what: string, ms: number, poll: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  return (async () => {
    for (;;) {
      const value = await poll();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
}

/** Runs `count` jobs with at most `width` at a time. */
export async function pooled<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await job(i);
      }
    }),
  );
  return results;
}
