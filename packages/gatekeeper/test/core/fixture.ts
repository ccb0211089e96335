/**
 * A real gatekeeper for tests: temp directory with gatekeeper.yaml, a policy bundle (the OAGF standard library plus
 * test settings, or given modules), a real @oagf/ledger SQLite file and signing key, on 127.0.0.1 port 0.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey } from '@oagf/ledger';
import { stringify } from 'yaml';
import { hashApiKey } from '../../src/auth/agents.js';
import { parseConfig } from '../../src/config/load.js';
import { buildServer, type BuildOptions, type Gatekeeper } from '../../src/server.js';

export const STDLIB = fileURLToPath(new URL('../../../../policies', import.meta.url));

export const KEYS = { buyer: 'buyer-test-key', planner: 'planner-test-key' };

export const SETTINGS = {
  config: {
    defaults: { models: ['gpt-4o-mini'] },
    approvers: { groups: ['procurement-leads'] },
    teams: {
      'supply-chain': {
        tools: ['place_order', 'check_inventory'],
        apis: { erp: ['GET /inventory*', 'GET /suppliers*', 'POST /orders'], dead: ['GET /*'] },
        redact: [{ api: 'erp', fields: ['supplier.bank_account'] }],
      },
    },
    agents: {
      buyer: { limits: [{ tool: 'place_order', currency: 'USD', escalate_above: 1_000_000, deny_above: 5_000_000 }, { api: 'erp', method: 'POST', path: '/orders', currency: 'USD', escalate_above: 1_000_000, deny_above: 5_000_000 }] },
    },
  },
};

export interface Fixture {
  dir: string;
  url: string;
  gk: Gatekeeper;
  policyDir: string;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** Extra/overriding top-level config keys. */
  config?: Record<string, unknown>;
  /** Policy modules instead of the standard library + SETTINGS. */
  modules?: Record<string, string>;
  /** data.yaml for the standard library instead of SETTINGS. */
  settings?: unknown;
  build?: BuildOptions;
}

export async function startGatekeeper(options: FixtureOptions = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-core-'));
  const policyDir = join(dir, 'policy');
  mkdirSync(policyDir);
  if (options.modules) for (const [name, src] of Object.entries(options.modules)) writeFileSync(join(policyDir, name), src);
  else writeFileSync(join(policyDir, 'data.yaml'), stringify(options.settings ?? SETTINGS));
  writeFileSync(join(dir, 'ledger.skey'), generateKey('test.local/ledger').skey);
  const config = {
    listen: '127.0.0.1:0',
    agents: [
      { id: 'buyer', owner: 'dana', team: 'supply-chain', api_keys: [hashApiKey(KEYS.buyer)] },
      { id: 'planner', owner: 'dana', team: 'supply-chain', api_keys: [hashApiKey(KEYS.planner)] },
    ],
    amounts: [
      { match: { tool: 'place_order' }, value: 'arguments.total', currency: 'USD' },
      { match: { api: 'erp', method: 'POST', path: '/orders' }, value: 'body.total', currency_from: 'body.currency' },
    ],
    policy: { bundle: options.modules ? ['./policy'] : [STDLIB, './policy'], debounce_ms: 50 },
    ledger: { path: './ledger.db', signing_key_file: './ledger.skey', origin: 'test.local/ledger' },
    logging: { level: 'silent' },
    ...options.config,
  };
  const file = join(dir, 'gatekeeper.yaml');
  const text = stringify(config);
  writeFileSync(file, text);
  const gk = await buildServer(parseConfig(text, file), options.build);
  const url = await gk.listen();
  return {
    dir,
    url,
    gk,
    policyDir,
    async close() {
      await gk.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A business API that records requests and answers with `reply(request)`. */
export async function startUpstream(reply: (c: Captured) => { status?: number; json?: unknown; text?: string }) {
  const received: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(captured);
      const r = reply(captured);
      const body = r.json !== undefined ? JSON.stringify(r.json) : (r.text ?? '');
      res.writeHead(r.status ?? 200, { 'content-type': r.json !== undefined ? 'application/json' : 'text/plain' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function post(url: string, body: unknown, key?: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
