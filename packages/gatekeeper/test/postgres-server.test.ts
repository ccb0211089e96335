/**
 * A gatekeeper on `storage.postgres`: decisions land in the PostgreSQL ledger, /readyz says ready only while the
 * database answers (and /healthz stays live meanwhile: a replica that lost its database is not restarted, it is
 * taken out of the load balancer).
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { KEYS, post, startGatekeeper, type Fixture } from './core/fixture.js';
import { PG_URL, freshSchema, pgQuery, postgresUnavailable } from './support/postgres.js';

const skip = await postgresUnavailable();

/** A TCP relay in front of PostgreSQL that the test can cut and restore. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(PG_URL);
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

let fx: Fixture;
const relay = new Relay();
const schema = skip ? '' : freshSchema();

before(async () => {
  if (skip) return;
  await relay.up();
  const url = new URL(PG_URL);
  url.port = String(relay.port);
  fx = await startGatekeeper({
    config: {
      ledger: { signing_key_file: './ledger.skey', origin: 'test.local/ledger' },
      storage: { postgres: { url: url.toString(), schema, pool: { connect_timeout_ms: 1000 } } },
    },
  });
});
after(async () => {
  if (skip) return;
  await fx.close();
  await relay.down().catch(() => undefined);
});

async function readyz() {
  const res = await fetch(`${fx.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; problems?: string[]; storage?: unknown } };
}

async function until<T>(what: string, ms: number, poll: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('decisions are sequenced into the PostgreSQL ledger and found by id', { skip }, async () => {
  const r = await post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { sku: 'STEEL-7', total: 250_000 } } }, KEYS.buyer);
  assert.equal(r.status, 200);
  const rows = await pgQuery<{ idx: string }>(`SELECT idx FROM "${schema}".entries WHERE id = $1`, [r.body.record_id]);
  assert.deepEqual(rows.map((x) => Number(x.idx)), [r.body.index]);
  assert.equal((await fx.gk.deps.ledger!.findById(r.body.record_id))!.index, r.body.index);
});

test('/readyz: ready while PostgreSQL answers, not ready (naming it) while it does not — decisions then refused — ready again after; /healthz stays live', { skip }, async () => {
  assert.equal((await readyz()).status, 200);
  const alone = await until('the only replica to integrate', 10_000, async () => {
    const r = await readyz();
    return (r.body.storage as { ledger_integrator?: boolean }).ledger_integrator ? r : undefined;
  });
  assert.deepEqual(alone.body.storage, { backend: 'postgres', schema, ledger_integrator: true });
  await relay.down();
  const down = await until('not ready', 10_000, async () => {
    const r = await readyz();
    return r.status === 503 ? r : undefined;
  });
  assert.equal(down.body.status, 'not ready');
  assert.match(down.body.problems!.join('\n'), /PostgreSQL \(storage\.postgres\) cannot be reached/);
  assert.equal((await fetch(`${fx.url}/healthz`)).status, 200, 'live: the process itself is fine');
  const refused = await post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { sku: 'STEEL-7', total: 1 } } }, KEYS.buyer);
  assert.equal(refused.status, 503, 'fail closed: a decision that cannot be recorded is refused');
  assert.equal(refused.body.decision.fault.code, 'ledger_failure');
  await relay.up();
  await until('ready again', 10_000, async () => ((await readyz()).status === 200 ? true : undefined));
});
