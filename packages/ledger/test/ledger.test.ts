import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  canonicalJson, generateKey, hashLeaf, openLedger, parseCheckpoint, sha256Hex, tilePath, verifyConsistency,
  verifyInclusion, verifyLedgerFile, verifyNote, verifyProofFile,
} from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';
import { mth } from './reference-tree.js';

const key = generateKey(ORIGIN);
const dir = tempDir();
const entryOf = (record: object) => Buffer.from(canonicalJson(record));

test('appends get consecutive indexes; records, roots and proofs match the reference tree', async () => {
  const ledger = await openLedger({ path: ':memory:', origin: ORIGIN, signingKey: key.skey });
  const results = await Promise.all(Array.from({ length: 45 }, (_, i) => ledger.append(decision(i))));
  assert.deepEqual(results.map((r) => r.index), [...Array(45).keys()]);
  const entries = await Promise.all(results.map(async (_, i) => entryOf((await ledger.getRecord(i))!)));
  assert.equal(results[7]!.leafHash, Buffer.from(hashLeaf(entries[7]!)).toString('hex'));
  assert.deepEqual(await ledger.findById('dec-7'), { index: 7, record: decision(7) });
  assert.equal(await ledger.findById('nope'), undefined);
  assert.equal(await ledger.getRecord(45), undefined);
  for (let size = 0; size <= 45; size++) assert.ok(Buffer.from(await ledger.rootAt(size)).equals(mth(entries.slice(0, size))), `root ${size}`);
  for (const [i, size] of [[0, 1], [7, 45], [44, 45], [31, 32], [12, 33]] as const) {
    assert.ok(verifyInclusion(i, size, hashLeaf(entries[i]!), await ledger.inclusionProof(i, size), await ledger.rootAt(size)));
  }
  for (const [a, b] of [[0, 45], [1, 45], [16, 45], [13, 44], [45, 45]] as const) {
    assert.ok(verifyConsistency(a, b, await ledger.rootAt(a), await ledger.rootAt(b), await ledger.consistencyProof(a, b)));
  }
  await assert.rejects(ledger.inclusionProof(45), /leaf index 45/);
  await assert.rejects(ledger.rootAt(46), /tree size 46/);
  await ledger.close();
});

test('bad records and duplicate ids are rejected with the reason', async () => {
  const ledger = await openLedger({ path: ':memory:', origin: ORIGIN, signingKey: key.skey });
  await ledger.append(decision(1));
  await assert.rejects(ledger.append(decision(1)), /already holds a record with id dec-1/);
  const twice = [ledger.append(decision(2)), ledger.append(decision(2))];
  assert.equal((await Promise.allSettled(twice)).filter((r) => r.status === 'rejected').length, 1);
  await assert.rejects(ledger.append({ ...decision(3), time: '2026-01-01 00:00:00' }), /time must be RFC 3339/);
  for (const time of ['2026-13-01T00:00:00.000Z', '2026-02-29T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T00:00:60.000Z']) {
    await assert.rejects(ledger.append({ ...decision(3), time }), /time must be RFC 3339/, time);
  }
  assert.equal((await ledger.append({ ...decision(3), id: 'leap', time: '2028-02-29T23:59:59.999Z' })).index, 2);
  await assert.rejects(ledger.append({ ...decision(3), outcome: 'maybe' as 'allow' }), /outcome/);
  await assert.rejects(ledger.append({ ...decision(3), extra: 1 } as never), /unknown field extra/);
  await assert.rejects(ledger.append({ ...decision(3), data: { n: NaN } }), /\$\.data\.n is NaN/);
  await assert.rejects(ledger.append({ ...decision(3), payloads: {} } as never), /second argument/);
  await assert.rejects(ledger.append({ ...decision(3), reasons: ['x'.repeat(70_000)] }), /limit is 65535/);
  const withUndefined = { ...decision(3), agent: undefined };
  assert.equal((await ledger.append(withUndefined)).index, 3);
  assert.equal(ledger.size(), 4);
  await ledger.close();
  await assert.rejects(ledger.append(decision(9)), /closed/);
});

test('a stored id in a batch fails only that append; the others commit in order (writer thread)', async () => {
  const path = join(dir, 'duplicates.db');
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey });
  await ledger.append(decision(1));
  const results = await Promise.allSettled([ledger.append(decision(2)), ledger.append(decision(1), { trace: 'x' }), ledger.append(decision(3))]);
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.index : r.reason.message)), [1, 'ledger already holds a record with id dec-1', 2]);
  assert.equal((await ledger.findById('dec-3'))?.index, 2);
  await ledger.close();
  const report = await verifyLedgerFile(path, { vkeys: [key.vkey] });
  assert.equal(report.ok, true, report.problem?.message);
  assert.equal(report.payloads.present, 0, 'the rejected append left no payload behind');
});

test('payloads live beside the tree; deleting one under retention keeps verification green', async () => {
  const path = join(dir, 'payloads.db');
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey });
  const trace = 'step 1: read the order\nstep 2: total is 2.4M';
  const body = new Uint8Array([1, 2, 3]);
  const { index } = await ledger.append(decision(1), { reasoning: trace, request: body });
  const record = (await ledger.getRecord(index))!;
  assert.deepEqual(record.payloads, { reasoning: `sha256:${sha256Hex(trace)}`, request: `sha256:${sha256Hex(body)}` });
  assert.equal(Buffer.from((await ledger.getPayload(record.payloads!.reasoning!))!).toString(), trace);
  assert.equal(await ledger.deletePayload(record.payloads!.reasoning!), true);
  assert.equal(await ledger.getPayload(record.payloads!.reasoning!), undefined);
  assert.equal(await ledger.deletePayload(record.payloads!.reasoning!), false);
  await ledger.close();
  const report = await verifyLedgerFile(path, { vkeys: [key.vkey] });
  assert.equal(report.ok, true, report.problem?.message);
  assert.deepEqual(report.payloads, { present: 1, referenced: 2, deleted: 1 });
});

test('checkpoints every N entries and every T ms; signed, parseable, reopen continues the same tree', async () => {
  const path = join(dir, 'checkpoints.db');
  let ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey, checkpointEvery: { entries: 10, ms: 0 } });
  for (let i = 0; i < 25; i++) await ledger.append(decision(i));
  assert.equal(parseCheckpoint(ledger.latestCheckpoint()!).size, 20);
  const note = await ledger.checkpointNow();
  assert.deepEqual(verifyNote(note, [key.vkey]), [ORIGIN]);
  const checkpoint = parseCheckpoint(note);
  assert.equal(checkpoint.size, 25);
  assert.ok(Buffer.from(checkpoint.root).equals(Buffer.from(await ledger.rootAt(25))));
  assert.equal(await ledger.checkpointNow(), note, 'no new entries: same checkpoint');
  await ledger.close();

  const rotated = generateKey(`${ORIGIN}-2027`);
  ledger = await openLedger({ path, origin: ORIGIN, signingKey: rotated.skey, checkpointEvery: { entries: 1000, ms: 20 } });
  assert.equal(ledger.size(), 25);
  assert.equal(ledger.latestCheckpoint(), note);
  await ledger.append(decision(25));
  // Wait for the 20 ms timer (polling, so a loaded machine only makes the test slower, not flaky).
  for (let waited = 0; parseCheckpoint(ledger.latestCheckpoint()!).size !== 26 && waited < 10_000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const timed = ledger.latestCheckpoint()!;
  assert.equal(parseCheckpoint(timed).size, 26, 'the timer signed a checkpoint');
  assert.deepEqual(verifyNote(timed, [key.vkey, rotated.vkey]), [`${ORIGIN}-2027`]);
  await ledger.close();
  await assert.rejects(openLedger({ path, origin: 'other.example/log', signingKey: key.skey }), /belongs to origin/);
  await assert.rejects(openLedger({ path, origin: ORIGIN, signingKey: 'nonsense' }), /malformed signing key/);
  const report = await verifyLedgerFile(path);
  assert.equal(report.ok, true, report.problem?.message);
  assert.deepEqual(report.signers.sort(), [ORIGIN, `${ORIGIN}-2027`]);
  assert.equal(report.keySource, 'database');
  assert.equal((await verifyLedgerFile(path, { vkeys: [key.vkey] })).ok, false, 'the rotated key is not trusted here');
});

test('a store failure rejects the appends of that batch and never resolves them', async () => {
  const path = join(dir, 'failure.db');
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey });
  await ledger.append(decision(0));
  const saboteur = new Database(path);
  saboteur.exec("CREATE TRIGGER disk_on_fire BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
  const results = await Promise.allSettled([ledger.append(decision(1)), ledger.append(decision(2), { trace: 'x' })]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  // One batch or two: a burst of appends at an idle writer may be split (see CommitPacer).
  for (const r of results) assert.match((r as PromiseRejectedResult).reason.message, /ledger store failure; [12] append\(s\) not recorded: disk on fire/);
  assert.equal(ledger.size(), 1);
  saboteur.exec('DROP TRIGGER disk_on_fire');
  saboteur.close();
  assert.equal((await ledger.append(decision(1))).index, 1, 'no gap after the failed batch');
  await ledger.close();
  const report = await verifyLedgerFile(path, { vkeys: [key.vkey] });
  assert.equal(report.ok, true, report.problem?.message);
  assert.equal(report.payloads.present, 0, 'the failed batch left no payload behind');
});

test('tlog-proof files verify offline and fail on tampering or untrusted keys', async () => {
  const ledger = await openLedger({ path: ':memory:', origin: ORIGIN, signingKey: key.skey });
  for (let i = 0; i < 13; i++) await ledger.append(decision(i));
  await assert.rejects(ledger.proofFile(3), /not covered by a checkpoint/);
  await ledger.checkpointNow();
  const proof = await ledger.proofFile(5);
  assert.match(proof, /^c2sp\.org\/tlog-proof@v1\nextra [A-Za-z0-9+/=]+\nindex 5\n/);
  const result = verifyProofFile(proof, [key.vkey], { origin: ORIGIN });
  assert.deepEqual(JSON.parse(Buffer.from(result.entry).toString()), decision(5));
  assert.equal(result.size, 13);
  assert.throws(() => verifyProofFile(proof, [generateKey(ORIGIN).vkey]), /not signed by any known key/);
  assert.throws(() => verifyProofFile(proof.replace('index 5', 'index 6'), [key.vkey]), /does not verify/);
  assert.throws(() => verifyProofFile(proof, [key.vkey], { entry: entryOf(decision(6)) }), /does not verify/);
  assert.throws(() => verifyProofFile(proof, [key.vkey], { origin: 'other' }), /expected other/);
  const lines = proof.split('\n');
  lines[3] = lines[3]!.slice(0, -2) + (lines[3]!.at(-2) === 'A' ? 'B=' : 'A=');
  assert.throws(() => verifyProofFile(lines.join('\n'), [key.vkey]), /does not verify|not a base64/);
  assert.throws(() => verifyProofFile('c2sp.org/tlog-proof@v2\n', [key.vkey]), /first line/);
  await ledger.close();
});

test('tlog-tiles handler serves checkpoint, hash tiles and entry bundles a client can check', async () => {
  const ledger = await openLedger({ path: ':memory:', origin: ORIGIN, signingKey: key.skey, checkpointEvery: { entries: 100_000, ms: 0 } });
  const tiles = ledger.tiles();
  assert.equal((await tiles('/checkpoint'))!.status, 404);
  const size = 600;
  await Promise.all(Array.from({ length: size }, (_, i) => ledger.append(decision(i))));
  const note = await ledger.checkpointNow();
  assert.equal(await tiles('/api/other'), null);
  const cp = (await tiles('/checkpoint'))!;
  assert.equal(cp.status, 200);
  assert.equal(cp.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(cp.body, note);

  // A minimal tlog client: rebuild the checkpoint root from level-0 tiles and entry bundles only.
  const get = async (path: string) => {
    const r = (await tiles(path))!;
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    return Buffer.from(r.body as Uint8Array);
  };
  const leafHashes: Buffer[] = [];
  const entries: Buffer[] = [];
  for (let n = 0; n * 256 < size; n++) {
    const width = Math.min(256, size - n * 256);
    const tile = await get(tilePath(0, n, width));
    assert.equal(tile.length, width * 32);
    for (let i = 0; i < width; i++) leafHashes.push(tile.subarray(i * 32, i * 32 + 32));
    const bundle = await get(tilePath('entries', n, width));
    for (let at = 0; at < bundle.length; ) {
      const length = bundle.readUInt16BE(at);
      entries.push(bundle.subarray(at + 2, at + 2 + length));
      at += 2 + length;
    }
  }
  assert.equal(entries.length, size);
  entries.forEach((e, i) => assert.ok(Buffer.from(hashLeaf(e)).equals(leafHashes[i]!), `entry ${i} hashes to its tile hash`));
  assert.ok(mth(entries).equals(Buffer.from(parseCheckpoint(note).root)));
  for (const round of [1, 2]) {
    // The second round answers the upper levels (>= 8) from the ledger's node cache.
    for (const i of [0, 255, 256, 300, 511, 512, 599]) {
      const proof = await ledger.inclusionProof(i);
      assert.ok(verifyInclusion(i, size, leafHashes[i]!, proof, parseCheckpoint(note).root), `round ${round}: proof ${i}`);
    }
    for (const first of [1, 256, 300, 512]) {
      assert.ok(verifyConsistency(first, size, mth(entries.slice(0, first)), parseCheckpoint(note).root, await ledger.consistencyProof(first, size)));
    }
  }
  const level1 = await get(tilePath(1, 0, 2));
  assert.ok(level1.subarray(32).equals(mth(entries.slice(256, 512))));

  assert.equal(tilePath(0, 1234067), '/tile/0/x001/x234/067');
  assert.equal((await tiles('/tile/0/003'))!.status, 404, 'beyond the tree');
  assert.equal((await tiles('/tile/0/002.p/89'))!.status, 404, 'wider than the tree');
  assert.equal((await tiles('/tile/0/002.p/256'))!.status, 400);
  assert.equal((await tiles('/tile/0/x000/002'))!.status, 400);
  assert.equal((await tiles('/tile/0/2'))!.status, 400);
  assert.equal((await tiles('/tile/64/000'))!.status, 400);
  assert.equal((await tiles('/tile/1/000'))!.status, 404, 'level-1 tile not full yet');
  await ledger.close();
});

test('verify reads logs longer than one read chunk, serially and on two threads alike', async () => {
  const path = join(dir, 'chunks.db');
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey, checkpointEvery: { entries: 2500, ms: 0 } });
  for (let start = 0; start < 9000; start += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => ledger.append(decision(start + i))));
  }
  const root = Buffer.from(await ledger.rootAt(9000)).toString('hex');
  await ledger.close();
  for (const parallel of [false, true]) {
    const report = await verifyLedgerFile(path, { vkeys: [key.vkey], parallel });
    assert.equal(report.ok, true, report.problem?.message);
    assert.equal(report.entries, 9000);
    assert.equal(report.nodes, 9000 - [...(9000).toString(2)].filter((b) => b === '1').length, 'n - popcount(n) perfect interior subtrees');
    assert.equal(report.root, root);
  }
});
