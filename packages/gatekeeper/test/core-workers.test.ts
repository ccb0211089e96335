/**
 * `serve --workers N`: worker processes share the port and hand their appends to the primary's one ledger.
 * - the cluster notifier meets the Notifier contract (notices relayed by the primary to every other worker);
 * - held requests on both workers are released by verdicts given through the console, whichever worker serves it;
 * - SIGKILL of the whole process group mid-burst loses no decision a client had an answer for, in both durability
 *   modes, and the ledger verifies;
 * - two single-process replicas share one ledger through --ledger-socket / --ledger-host;
 * - with storage.postgres the workers are replicas of the database: one dense ledger from both.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openLedger, verifierKeyOf, verifyLedgerFile } from '@oagf/ledger';
import { Client } from 'undici';
import { ClusterNotifier, relayNotices, type NoticeChannel, type NoticeMessage } from '../src/stores/cluster/notifier.js';
import { notifierContract } from './stores/notifier.contract.js';
import { PG_URL, freshSchema, postgresUnavailable } from './support/postgres.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const keynote = join(repo, 'examples/keynote');
const dir = mkdtempSync(join(tmpdir(), 'gk-workers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

notifierContract('cluster (relayed by the primary)', async (count) => {
  // Each worker's process channel, as the primary sees it and as the worker sees it.
  const workers = Array.from({ length: count }, () => {
    const inbox = new EventEmitter();
    const end = { send: (m: NoticeMessage) => void setImmediate(() => inbox.emit('message', m)) };
    return { inbox, end };
  });
  const primarySide = workers.map((w) => w.end);
  return workers.map((w, i) => {
    const channel: NoticeChannel = {
      send: (m) => setImmediate(() => relayNotices(primarySide[i]!, m, primarySide)),
      on: (e, l) => w.inbox.on(e, l),
      off: (e, l) => w.inbox.off(e, l),
    };
    return new ClusterNotifier(channel);
  });
});

function keynoteConfig(name: string, erpPort: number, durability: 'fsync' | 'buffered'): string {
  const text = readFileSync(join(keynote, 'gatekeeper.yaml'), 'utf8')
    .replace('listen: 127.0.0.1:8787', 'listen: 127.0.0.1:0')
    .replace('http://127.0.0.1:8788', `http://127.0.0.1:${erpPort}`)
    .replace('bundle: [../../policies, ./policy]', `bundle: ["${join(repo, 'policies')}", "${join(keynote, 'policy')}"]`)
    .replace('origin: keynote.acme.example/ledger', `origin: keynote.acme.example/ledger\n  durability: ${durability}`);
  const sub = join(dir, name);
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, 'gatekeeper.yaml'), text);
  return join(sub, 'gatekeeper.yaml');
}

async function fakeErp(): Promise<{ server: Server; port: number; orders: number }> {
  const state = { orders: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.orders++;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"order":"ok"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, { server, port: (server.address() as AddressInfo).port });
}

/** `serve --workers 2` (or other `serve` arguments) from the sources, in its own process group (so SIGKILL reaches the workers too). */
async function serveWorkers(config: string, args = ['--workers', '2'], ready = /gatekeeper listening on (http:\/\/\S+) \(policy \S+; 2 workers\)/): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const argv = ['--import', 'tsx', '--conditions=development', 'src/cli.ts', 'serve', '--config', config, '--generate-key', ...args];
  const child = spawn(process.execPath, argv, { cwd: pkg, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ERP_TOKEN: 'erp-demo-token' } });
  let seen = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve ${args.join(' ')} did not start:\n${seen}`)), 60_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = seen.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}:\n${seen}`)));
  });
  return { child, url, output: () => seen };
}

const BUYER = { authorization: 'Bearer buyer-demo-key', 'content-type': 'application/json' };
const PRIYA = { authorization: `Basic ${Buffer.from('priya:gatekeeper').toString('base64')}`, 'content-type': 'application/json' };

describe('serve --workers 2', () => {
  it('held requests on every worker are released by verdicts given through any worker, each exactly once', { timeout: 120_000 }, async () => {
    const erp = await fakeErp();
    const { child, url } = await serveWorkers(keynoteConfig('held', erp.port, 'buffered'));
    try {
      // Four connections: the primary deals them out round-robin, so both workers hold requests.
      const clients = Array.from({ length: 4 }, () => new Client(url));
      const held = clients.map((c, i) =>
        c.request({ method: 'POST', path: '/apis/erp/orders', headers: BUYER, body: JSON.stringify({ sku: `STEEL-${i}`, total: 2_400_000, currency: 'USD' }) }),
      );
      let pending: { id: string }[] = [];
      for (let i = 0; i < 100 && pending.length < 4; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const res = await fetch(`${url}/console/api/approvals?status=pending`, { headers: PRIYA });
        pending = ((await res.json()) as { approvals: { id: string }[] }).approvals;
      }
      assert.equal(pending.length, 4, 'four approvals are pending');
      const started = performance.now();
      for (const [i, a] of pending.entries()) {
        // A fresh connection per verdict: they too go to both workers.
        const verdict = i === 3 ? 'reject' : 'approve';
        const res = await fetch(`${url}/console/api/approvals/${a.id}/decision`, { method: 'POST', headers: { ...PRIYA, connection: 'close' }, body: JSON.stringify({ verdict }) });
        assert.equal(res.status, 200, await res.text());
      }
      const statuses = await Promise.all(held.map(async (p) => (await p).statusCode));
      const waited = performance.now() - started;
      console.log(`four held requests answered ${Math.round(waited)} ms after the first verdict`);
      assert.deepEqual(statuses.sort(), [201, 201, 201, 403]);
      assert.ok(waited < 5_000, `released within seconds (${waited} ms)`);
      assert.equal(erp.orders, 3, 'the ERP got exactly the three approved orders');
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
      erp.server.close();
    }
  });

  for (const durability of ['fsync', 'buffered'] as const) {
    it(`SIGKILL of primary and workers mid-burst (${durability}): every decision answered is in the ledger, which verifies`, { timeout: 120_000 }, async () => {
      const erp = await fakeErp();
      const config = keynoteConfig(`crash-${durability}`, erp.port, durability);
      const { child, url } = await serveWorkers(config);
      const answered: string[] = [];
      let stop = false;
      const sender = async () => {
        const client = new Client(url);
        try {
          while (!stop) {
            const res = await client.request({
              method: 'POST',
              path: '/v1/decisions',
              headers: BUYER,
              body: JSON.stringify({ action: { kind: 'http.request', target: { api: 'erp', method: 'POST', path: '/orders' }, body: { sku: 'BOLT', total: 100, currency: 'USD' } } }),
            });
            const body = (await res.body.json()) as { record_id?: string };
            if (res.statusCode === 200 && body.record_id) answered.push(body.record_id);
          }
        } catch {
          // the process group was killed under it
        } finally {
          await client.destroy().catch(() => {});
        }
      };
      const senders = Array.from({ length: 16 }, sender);
      while (answered.length < 300) await new Promise((r) => setTimeout(r, 20));
      process.kill(-child.pid!, 'SIGKILL');
      stop = true;
      await Promise.all(senders);
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
      await new Promise((r) => setTimeout(r, 300)); // the workers die with the group; let the kernel reap them
      erp.server.close();

      const ledgerPath = join(dirname(config), 'keynote-ledger.db');
      const skey = readFileSync(join(dirname(config), 'ledger.skey'), 'utf8').trim();
      const report = await verifyLedgerFile(ledgerPath, { vkeys: [verifierKeyOf(skey)] });
      assert.ok(report.ok, JSON.stringify(report));
      const ledger = await openLedger({ path: ledgerPath, origin: 'keynote.acme.example/ledger', signingKey: skey });
      try {
        const missing = [];
        for (const id of answered) if (!(await ledger.findById(id))) missing.push(id);
        console.log(`${durability}: ${answered.length} decisions answered before SIGKILL, ledger holds ${ledger.size()} entries, ${missing.length} missing`);
        assert.deepEqual(missing, []);
      } finally {
        await ledger.close();
      }
    });
  }

  it('two replicas, one ledger: --ledger-socket serves it, --ledger-host appends to it; decisions through both are in it, and both serve its checkpoint', { timeout: 120_000 }, async () => {
    const erp = await fakeErp();
    const config = keynoteConfig('replicas', erp.port, 'buffered');
    writeFileSync(config, `${readFileSync(config, 'utf8')}\nadmin: { public_ledger: true }\n`);
    const socket = join(dirname(config), 'ledger.sock');
    const single = /gatekeeper listening on (http:\/\/\S+) \(policy \S+\)/;
    const a = await serveWorkers(config, ['--workers', '1', '--ledger-socket', socket], single);
    const b = await serveWorkers(config, ['--workers', '1', '--ledger-host', socket], single);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${(i % 2 ? b : a).url}/v1/decisions`, {
          method: 'POST',
          headers: BUYER,
          body: JSON.stringify({ action: { kind: 'http.request', target: { api: 'erp', method: 'POST', path: '/orders' }, body: { sku: 'BOLT', total: 100, currency: 'USD' } } }),
        });
        const body = (await res.json()) as { record_id: string; index: number };
        assert.equal(res.status, 200);
        ids.push(body.record_id);
      }
      await new Promise((r) => setTimeout(r, 1_500)); // a checkpoint covering all 20 (one a second)
      for (const r of [a, b]) {
        const res = await fetch(`${r.url}/ledger/checkpoint`);
        assert.equal(res.status, 200);
        assert.match(await res.text(), /^keynote\.acme\.example\/ledger\n20\n/);
      }
    } finally {
      for (const r of [b, a]) {
        process.kill(-r.child.pid!, 'SIGTERM');
        await new Promise((done) => r.child.once('exit', done));
      }
      erp.server.close();
    }
    const ledgerPath = join(dirname(config), 'keynote-ledger.db');
    const skey = readFileSync(join(dirname(config), 'ledger.skey'), 'utf8').trim();
    const report = await verifyLedgerFile(ledgerPath, { vkeys: [verifierKeyOf(skey)] });
    assert.ok(report.ok, JSON.stringify(report));
    assert.equal(report.entries, 20);
  });

  it('with storage.postgres the workers are replicas of the shared database: decisions through both get one dense run of indexes', { timeout: 120_000 }, async (t) => {
    const unavailable = await postgresUnavailable();
    if (unavailable) return t.skip(unavailable);
    const erp = await fakeErp();
    const config = keynoteConfig('postgres', erp.port, 'fsync');
    writeFileSync(config, `${readFileSync(config, 'utf8')}\nstorage: { postgres: { url: "${PG_URL}", schema: ${freshSchema('gk_workers')} } }\n`);
    const { child, url } = await serveWorkers(config);
    try {
      const indexes = await Promise.all(
        Array.from({ length: 20 }, async () => {
          // A connection each: the primary deals them out to both workers.
          const client = new Client(url);
          const res = await client.request({
            method: 'POST',
            path: '/v1/decisions',
            headers: BUYER,
            body: JSON.stringify({ action: { kind: 'http.request', target: { api: 'erp', method: 'POST', path: '/orders' }, body: { sku: 'BOLT', total: 100, currency: 'USD' } } }),
          });
          const body = (await res.body.json()) as { index: number };
          await client.close();
          assert.equal(res.statusCode, 200);
          return body.index;
        }),
      );
      assert.deepEqual(indexes.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
      erp.server.close();
    }
  });
});
