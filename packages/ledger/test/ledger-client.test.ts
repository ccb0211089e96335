/**
 * Workers hand appends to one sequencer: LedgerClients in worker threads (MessagePort) and in other processes (unix
 * socket) get the same ordering (per connection, in send order) and the same acknowledgement (only once durably
 * committed) as local appends; SIGKILL of the host process mid-burst loses nothing a client had acknowledged, in
 * both durability modes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DURABILITIES, LedgerClient, LedgerHost, generateKey, openLedger, verifyLedgerFile, type AppendResult } from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';

const dir = tempDir();
const key = generateKey(ORIGIN);
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).href;

function tsWorker(url: string, workerData: unknown, transferList: readonly import('node:worker_threads').TransferListItem[]): Worker {
  // Workers do not inherit tsx's loader: register it first, as the ledger's own writer thread does.
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); });`, { eval: true, workerData, transferList: [...transferList] });
}

test('worker threads append through one host: every append acknowledged once, in send order per worker, and the ledger verifies', { timeout: 120_000 }, async () => {
  const path = join(dir, 'threads.db');
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey });
  const host = new LedgerHost(ledger);
  const workers = ['w0', 'w1', 'w2', 'w3'].map((name) => {
    const port = host.port();
    return new Promise<{ results: AppendResult[]; duplicate: string }>((resolve, reject) => {
      const worker = tsWorker(fixture('client-worker.ts'), { port, name, count: 300 }, [port]);
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  });
  const local = await ledger.append(decision(9999, { id: 'local' }));
  const outcomes = await Promise.all(workers);
  const indexes = [local.index, ...outcomes.flatMap((o) => o.results.map((r) => r.index))].sort((a, b) => a - b);
  assert.deepEqual(indexes, [...Array(1201).keys()], 'each append got its own index, with no gap');
  for (const [w, { results, duplicate }] of outcomes.entries()) {
    assert.deepEqual(results.map((r) => r.id), Array.from({ length: 300 }, (_, i) => `w${w}-${i}`));
    assert.ok(results.every((r, i) => i === 0 || r.index > results[i - 1]!.index), `w${w}'s appends hold their send order`);
    assert.equal(duplicate, `ledger already holds a record with id w${w}-0`, 'a refusal comes back as the ledger error');
  }
  const found = (await ledger.findById('w2-17'))!;
  assert.equal(found.index, outcomes[2]!.results[17]!.index);
  assert.equal(Buffer.from((await ledger.getPayload(found.record.payloads!.trace!))!).toString(), 'w2 17', 'payload bytes crossed intact');
  await host.close();
  await ledger.close();
  const report = await verifyLedgerFile(path, { vkeys: [key.vkey] });
  assert.equal(report.ok, true, JSON.stringify(report.problem));
  assert.equal(report.entries, 1201);
});

test('a client in another process: refusals keep their type and message; checkpointNow covers its appends', async () => {
  const path = join(dir, 'socket.db');
  const socket = join(dir, 'ledger.sock');
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey });
  const host = new LedgerHost(ledger);
  await host.listen(socket);
  const client = await LedgerClient.overSocket(socket);
  const first = await client.append(decision(1), { body: new Uint8Array([0, 255, 7]) });
  assert.equal(first.index, 0);
  await assert.rejects(client.append({ ...decision(2), time: 'yesterday' }), (e: unknown) => e instanceof TypeError && /time must be RFC 3339/.test(e.message));
  await assert.rejects(client.append(decision(1)), /already holds a record with id dec-1/);
  const note = await client.checkpointNow();
  assert.match(note, /^test\.gatekeeper\.example\/ledger\n1\n/);
  const digest = (await ledger.getRecord(0))!.payloads!.body!;
  assert.deepEqual([...(await ledger.getPayload(digest))!], [0, 255, 7]);
  await host.close();
  await assert.rejects(client.append(decision(3)), /connection to the ledger host was lost/);
  await ledger.close();
  await assert.rejects(LedgerClient.overSocket(join(dir, 'nobody.sock')), /cannot reach the ledger host/);
});

test('client.ledger(): reads, proofs, tiles, size and checkpoint answered by the host, the same as the host ledger answers them', async () => {
  const path = join(dir, 'reads.db');
  const socket = join(dir, 'reads.sock');
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey });
  const host = new LedgerHost(ledger);
  await host.listen(socket);
  const remote = (await LedgerClient.overSocket(socket)).ledger();
  for (let n = 0; n < 5; n++) await remote.append(decision(n), { body: `payload ${n}` });
  const note = await remote.checkpointNow();
  assert.equal(remote.size(), 5);
  assert.equal(remote.latestCheckpoint(), note);
  assert.deepEqual(await remote.findById('dec-3'), await ledger.findById('dec-3'));
  assert.deepEqual(await remote.getRecord(2), await ledger.getRecord(2));
  assert.equal(await remote.getRecord(99), undefined);
  const digest = (await ledger.getRecord(4))!.payloads!.body!;
  assert.equal(Buffer.from((await remote.getPayload(digest))!).toString(), 'payload 4');
  assert.deepEqual((await remote.inclusionProof(1, 5)).map((h) => Buffer.from(h).toString('hex')), (await ledger.inclusionProof(1, 5)).map((h) => Buffer.from(h).toString('hex')));
  assert.deepEqual(Buffer.from(await remote.rootAt(5)), Buffer.from(await ledger.rootAt(5)));
  assert.equal(await remote.proofFile(2), await ledger.proofFile(2));
  const tile = await remote.tiles()('checkpoint');
  assert.deepEqual(tile, await ledger.tiles()('checkpoint'));
  assert.equal(await remote.tiles()('no/such/thing'), null);
  await remote.close();
  await host.close();
  await ledger.close();
});

for (const durability of DURABILITIES) {
  test(`SIGKILL of the host process mid-burst (${durability}): every append a client had acknowledged survives`, { timeout: 120_000 }, async (t) => {
    const path = join(dir, `host-crash-${durability}.db`);
    const socket = join(dir, `host-${durability}.sock`);
    const acked = new Map<string, number>();
    let unknown = 0;
    for (let round = 0; round < 5; round++) {
      const host = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', fileURLToPath(fixture('ledger-host.ts')), path, key.skey, socket, durability], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        host.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
        host.once('exit', (code) => reject(new Error(`host exited early (${code})`)));
      });
      const clients = await Promise.all([LedgerClient.overSocket(socket), LedgerClient.overSocket(socket)]);
      let n = 0;
      setTimeout(() => host.kill('SIGKILL'), randomInt(50, 300));
      await Promise.all(
        clients.flatMap((client) =>
          Array.from({ length: 16 }, async () => {
            for (;;) {
              const id = `${durability}-r${round}-${n++}`;
              try {
                acked.set(id, (await client.append(decision(n, { id }))).index);
              } catch (error) {
                assert.match((error as Error).message, /connection to the ledger host was lost; \d+ append\(s\) unacknowledged/);
                unknown++;
                return;
              }
            }
          }),
        ),
      );
      await new Promise((resolve) => (host.exitCode !== null || host.signalCode !== null ? resolve(undefined) : host.once('exit', resolve)));
      const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey, durability, checkpointEvery: { ms: 0 } });
      for (const [id, index] of acked) assert.equal((await ledger.findById(id))?.index, index, `round ${round}: acknowledged ${id} at ${index}`);
      await ledger.close();
      const report = await verifyLedgerFile(path, { vkeys: [key.vkey] });
      assert.equal(report.ok, true, `round ${round}: ${report.problem?.message}`);
    }
    t.diagnostic(`${acked.size} acknowledged appends over 5 kills, ${unknown} in flight at a kill (unknown outcome)`);
    assert.ok(acked.size > 50, `the clients made progress (${acked.size})`);
  });
}
