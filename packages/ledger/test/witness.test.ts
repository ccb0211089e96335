/**
 * C2SP tlog-witness: the witness cosigns consistent checkpoints (tlog-cosignature/v1), answers each refusal with the
 * status code the spec names, refuses a split view (a checkpoint inconsistent with one it cosigned) and keeps its
 * state across restarts; the log side submits with proofs and serves the cosigned checkpoint; the CLI runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Witness, WitnessRefusal, generateCosignerKey, generateKey, openLedger, parseCheckpoint, requestCosignature, serveWitness, verifyNote,
  witnessCheckpoints, type Ledger,
} from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';

const dir = tempDir();
const logKey = generateKey(ORIGIN);
const witnessKey = generateCosignerKey('witness.test.example/w1');

async function ledgerWith(count: number, idPrefix = 'dec'): Promise<Ledger> {
  const ledger = await openLedger({ path: ':memory:', origin: ORIGIN, signingKey: logKey.skey, checkpointEvery: { entries: 1_000_000, ms: 0 } });
  for (let i = 0; i < count; i++) await ledger.append(decision(i, { id: `${idPrefix}-${i}` }));
  return ledger;
}

async function grow(ledger: Ledger, to: number, idPrefix = 'dec'): Promise<string> {
  for (let i = ledger.size(); i < to; i++) await ledger.append(decision(i, { id: `${idPrefix}-${i}` }));
  return ledger.checkpointNow();
}

const toBase64Line = (hash: Uint8Array) => `${Buffer.from(hash).toString('base64')}\n`;

function post(url: string, body: string) {
  return fetch(`${url}/add-checkpoint`, { method: 'POST', body }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.text() }));
}

async function addBody(ledger: Ledger, old: number, note: string): Promise<string> {
  const size = parseCheckpoint(note).size;
  const proof = old === 0 || old === size ? [] : await ledger.consistencyProof(old, size);
  return `old ${old}\n${proof.map(toBase64Line).join('')}\n${note}`;
}

test('the witness cosigns consistent checkpoints, refuses a split view, and keeps its state across restarts', async () => {
  const statePath = join(dir, 'witness-state.json');
  const options = { signingKey: witnessKey.skey, logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], statePath, now: () => 1_767_225_600 };
  const { server, url } = await serveWitness(options);
  const log = await ledgerWith(10);
  const endpoint = { url, vkey: witnessKey.vkey };
  try {
    const first = await log.checkpointNow();
    const cosigned = await requestCosignature(endpoint, first, 0, (a, b) => log.consistencyProof(a, b));
    assert.equal(cosigned.size, 10);
    assert.match(cosigned.lines, /^\u2014 witness\.test\.example\/w1 [A-Za-z0-9+/=]+\n$/);
    assert.deepEqual(verifyNote(first + cosigned.lines, [witnessKey.vkey]), ['witness.test.example/w1']);
    assert.deepEqual(verifyNote(first + cosigned.lines, [logKey.vkey, witnessKey.vkey]).sort(), [ORIGIN, 'witness.test.example/w1'].sort());

    // A client that does not know the witness's size learns it from the 409 and proves consistency from there.
    const second = await grow(log, 20);
    assert.equal((await requestCosignature(endpoint, second, 0, (a, b) => log.consistencyProof(a, b))).size, 20);
    const stale = await post(url, await addBody(log, 10, second));
    assert.deepEqual(stale, { status: 409, type: 'text/x.tlog.size', body: '20\n' });
    assert.equal((await post(url, await addBody(log, 20, second))).status, 200, 'the same checkpoint again');

    // A fork: same origin and key, other entries. Same size, other root -> 409; larger, proof from its own tree -> 422.
    const fork = await ledgerWith(20, 'forged');
    const forkedAt20 = await fork.checkpointNow();
    const sameSize = await post(url, await addBody(fork, 20, forkedAt20));
    assert.deepEqual(sameSize, { status: 409, type: 'text/x.tlog.size', body: '20\n' });
    const forkedAt25 = await grow(fork, 25, 'forged');
    const larger = await post(url, await addBody(fork, 20, forkedAt25));
    assert.equal(larger.status, 422);
    assert.match(larger.body, /not consistent with the one of size 20/);
    await assert.rejects(requestCosignature(endpoint, forkedAt25, 20, (a, b) => fork.consistencyProof(a, b)), (e: unknown) => e instanceof WitnessRefusal && e.status === 422);
    assert.equal(JSON.parse(readFileSync(statePath, 'utf8')).logs[ORIGIN].size, 20, 'the refusals changed nothing');

    // The real log grows on; a rollback (a smaller checkpoint than the witness holds) is named as such.
    const third = await grow(log, 33);
    assert.equal((await requestCosignature(endpoint, third, 20, (a, b) => log.consistencyProof(a, b))).size, 33);
    const shorter = await ledgerWith(30);
    await assert.rejects(
      requestCosignature(endpoint, await shorter.checkpointNow(), 0, (a, b) => shorter.consistencyProof(a, b)),
      /cosigned a larger tree \(size 33\) than this checkpoint \(30\): the log lost entries or was rewritten/,
    );
    await fork.close();
    await shorter.close();
  } finally {
    server.close();
  }
  // Restarted from its state file, the witness still holds size 33 and still refuses the fork.
  const restarted = new Witness(options);
  assert.equal(parseCheckpoint(restarted.latest(ORIGIN)!).size, 33);
  const fork = await ledgerWith(40, 'forged');
  const refused = await restarted.addCheckpoint(await addBody(fork, 33, await fork.checkpointNow()));
  assert.equal(refused.status, 422);
  await fork.close();
  await log.close();
});

test('add-checkpoint answers each refusal with the status the spec names', async () => {
  const statePath = join(dir, 'witness-status.json');
  const other = generateKey('other.test.example/log');
  const witness = new Witness({ signingKey: witnessKey.skey, logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], statePath });
  const log = await ledgerWith(5);
  const note = await log.checkpointNow();
  const answer = (body: string) => witness.addCheckpoint(body).then((r) => r.status);
  assert.equal(await answer(`old 0\n${note}`), 400, 'no empty line after the old size');
  assert.equal(await answer(`old 01\n\n${note}`), 400, 'leading zero');
  assert.equal(await answer(`old 0\nnot-base64\n\n${note}`), 400);
  assert.equal(await answer(`old 0\n${'AAAA\n'.repeat(2)}\n${note}`), 400, 'a proof line that is not 32 bytes');
  assert.equal(await answer(`old 0\n${`${Buffer.alloc(32).toString('base64')}\n`.repeat(64)}\n${note}`), 400, 'more than 63 proof lines');
  assert.equal(await answer(`old 0\n\nnot a checkpoint\n`), 400);
  const foreign = await openLedger({ path: ':memory:', origin: 'other.test.example/log', signingKey: other.skey });
  await foreign.append(decision(1));
  assert.equal(await answer(`old 0\n\n${await foreign.checkpointNow()}`), 404, 'unknown origin');
  const wrongKey = await openLedger({ path: ':memory:', origin: ORIGIN, signingKey: generateKey(ORIGIN).skey });
  await wrongKey.append(decision(1));
  assert.equal(await answer(`old 0\n\n${await wrongKey.checkpointNow()}`), 403, 'signed by a key the witness does not trust for the origin');
  assert.equal(await answer(`old 0\n\n${note.replace(/ [A-Za-z0-9+/]{10}/, ' AAAAAAAAAA')}`), 403, 'a bad signature by the trusted key');
  assert.equal(await answer(`old 6\n\n${note}`), 400, 'old size beyond the checkpoint');
  assert.equal(await answer(`old 0\n${Buffer.alloc(32).toString('base64')}\n\n${note}`), 422, 'a proof from size 0');
  assert.equal(await answer(`old 0\n\n${note}`), 200);
  const mismatch = await witness.addCheckpoint(`old 3\n\n${note}`);
  assert.deepEqual([mismatch.status, mismatch.headers['content-type'], mismatch.body], [409, 'text/x.tlog.size', '5\n']);
  assert.throws(() => new Witness({ signingKey: logKey.skey, logs: [], statePath }), /not a cosigner \(0x04\) key/);
  await Promise.all([log.close(), foreign.close(), wrongKey.close()]);
});

test('the log submits each new checkpoint and serves the cosigned one at /checkpoint', async () => {
  const { server, url } = await serveWitness({ signingKey: witnessKey.skey, logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], statePath: join(dir, 'witness-log.json') });
  const log = await ledgerWith(7);
  const errors: string[] = [];
  const witnessed = witnessCheckpoints(log, { witnesses: [{ url, vkey: witnessKey.vkey }], everyMs: 20, onError: (name, e) => errors.push(`${name}: ${e.message}`) });
  try {
    const cosigned = await witnessed.submit();
    assert.equal(parseCheckpoint(cosigned).size, 7);
    assert.equal((await witnessed.tiles()('/checkpoint'))!.body, cosigned);
    await grow(log, 12);
    for (let waited = 0; parseCheckpoint(witnessed.cosigned()!).size !== 12 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const later = witnessed.cosigned()!;
    assert.equal(parseCheckpoint(later).size, 12, 'the timer submitted the new checkpoint');
    assert.deepEqual(verifyNote(later, [logKey.vkey, witnessKey.vkey]).sort(), [ORIGIN, 'witness.test.example/w1'].sort());
    assert.deepEqual(errors, []);
    assert.equal((await witnessed.tiles()('/tile/0/000.p/12'))!.status, 200, 'other tiles paths pass through');
  } finally {
    witnessed.close();
    server.close();
    await log.close();
  }
});

test('a replica behind the witness is not refused, a ledger smaller than what the witness cosigned is', async () => {
  const { server, url } = await serveWitness({ signingKey: witnessKey.skey, logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], statePath: join(dir, 'witness-replicas.json') });
  const endpoint = { url, vkey: witnessKey.vkey };
  const log = await ledgerWith(5);
  const early = await log.checkpointNow();
  const late = await grow(log, 9);
  const errors: string[] = [];
  const onError = (name: string, e: Error) => errors.push(`${name}: ${e.message}`);
  // Another replica of the shared ledger had the size-9 checkpoint cosigned; this one holds all 9 entries but has
  // not seen that checkpoint yet.
  await requestCosignature(endpoint, late, 0, (a, b) => log.consistencyProof(a, b));
  let latest = early;
  const replica = Object.create(log, { latestCheckpoint: { value: () => latest } }) as Ledger;
  const witnessed = witnessCheckpoints(replica, { witnesses: [endpoint], everyMs: 60_000, onError });
  const truncated = await ledgerWith(5);
  const alone = witnessCheckpoints(truncated, { witnesses: [endpoint], everyMs: 60_000, behindGraceMs: 50, onError });
  try {
    await assert.rejects(witnessed.submit(), /no witness cosigned the checkpoint of size 5/);
    assert.deepEqual(errors, [], 'only behind: nothing reported');
    latest = late;
    assert.equal(parseCheckpoint(await witnessed.submit()).size, 9, 'its next checkpoint is cosigned, from the size the witness named');
    assert.deepEqual(errors, []);
    // The same key, 5 entries and no more: the 4 the witness cosigned beyond them are gone.
    await assert.rejects(alone.submit());
    assert.deepEqual(errors, [], 'reported only if it stays smaller for the grace period');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /cosigned a larger tree \(size 9\) than this checkpoint \(5\): the log lost entries or was rewritten/);
  } finally {
    witnessed.close();
    alone.close();
    server.close();
    await Promise.all([log.close(), truncated.close()]);
  }
});

test('ledger witness keygen and serve run a witness from the command line', { timeout: 60_000 }, async () => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const keyFile = join(dir, 'witness.key');
  const keygen = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', cli, 'witness', 'keygen', 'witness.cli.example/w', '--json']);
  let keys = '';
  keygen.stdout.on('data', (c: Buffer) => (keys += c));
  await new Promise((r) => keygen.on('exit', r));
  const { skey, vkey } = JSON.parse(keys) as { skey: string; vkey: string };
  writeFileSync(keyFile, `${skey}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', cli, 'witness', 'serve', '--key-file', keyFile, '--log', logKey.vkey, '--state', join(dir, 'cli-state.json'), '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c;
        const match = /listening on (http:\/\/\S+)\/add-checkpoint\n\s+vkey (\S+)/.exec(out);
        if (match) {
          assert.equal(match[2], vkey);
          resolve(match[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`witness serve exited with ${code}: ${out}`)));
    });
    const log = await ledgerWith(3);
    const cosigned = await requestCosignature({ url, vkey }, await log.checkpointNow(), 0, (a, b) => log.consistencyProof(a, b));
    assert.equal(cosigned.size, 3);
    await log.close();
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await new Promise((r) => child.on('exit', r)), 0, 'stops cleanly on SIGTERM');
});
