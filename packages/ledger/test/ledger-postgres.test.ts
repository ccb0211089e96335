/**
 * The ledger API, the tlog-tiles handler, proofs and the CLI (verify, export, proof) against the PostgreSQL driver,
 * and its schema migrations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  POSTGRES_SCHEMA_VERSION, canonicalJson, exportPostgresLedger, generateKey, hashLeaf, openLedger, parseCheckpoint, postgresDriver,
  tilePath, verifyConsistency, verifyInclusion, verifyLedgerFile, verifyProofFile,
} from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';
import { PG_URL, freshSchema, pgQuery, postgresUnavailable } from './pg-helpers.js';
import { mth } from './reference-tree.js';

const skip = await postgresUnavailable();
const key = generateKey(ORIGIN);
const dir = tempDir();
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const driverFor = (schema: string) => postgresDriver({ url: PG_URL, schema, integrateEveryMs: 10 });

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('appends, reads, proofs, tiles and payloads on PostgreSQL match the reference tree', { skip }, async () => {
  const schema = freshSchema();
  const ledger = await openLedger({ driver: driverFor(schema), origin: ORIGIN, signingKey: key.skey, checkpointEvery: { entries: 100_000, ms: 0 } });
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => ledger.append(decision(i), i === 7 ? { trace: 'why 7' } : undefined)));
  assert.deepEqual(results.map((r) => r.index).sort((a, b) => a - b), [...Array(300).keys()]);
  await assert.rejects(ledger.append(decision(5)), /already holds a record with id dec-5/);
  const note = await ledger.checkpointNow();
  assert.equal(parseCheckpoint(note).size, 300);
  assert.equal(ledger.size(), 300);
  assert.equal(ledger.latestCheckpoint(), note);

  // Concurrent appends may commit in any order; each got the index its entry is stored at.
  const appended = new Map(results.map((r, n) => [r.index, n]));
  const stored = await Promise.all([...Array(300).keys()].map(async (i) => Buffer.from(canonicalJson((await ledger.getRecord(i))!))));
  stored.forEach((bytes, i) => {
    const n = appended.get(i)!;
    if (n !== 7) assert.ok(bytes.equals(Buffer.from(canonicalJson(decision(n)))), `entry ${i}`);
  });
  assert.ok(Buffer.from(parseCheckpoint(note).root).equals(mth(stored)));
  const found = (await ledger.findById('dec-7'))!;
  assert.equal(Buffer.from((await ledger.getPayload(found.record.payloads!.trace!))!).toString(), 'why 7');

  for (const [i, size] of [[0, 1], [7, 300], [299, 300], [255, 256], [100, 257]] as const) {
    assert.ok(verifyInclusion(i, size, hashLeaf(stored[i]!), await ledger.inclusionProof(i, size), await ledger.rootAt(size)), `inclusion ${i}/${size}`);
  }
  for (const [a, b] of [[0, 300], [1, 300], [256, 300], [13, 44], [300, 300]] as const) {
    assert.ok(verifyConsistency(a, b, await ledger.rootAt(a), await ledger.rootAt(b), await ledger.consistencyProof(a, b)), `consistency ${a}/${b}`);
  }
  const proof = verifyProofFile(await ledger.proofFile(42), [key.vkey], { origin: ORIGIN });
  assert.ok(Buffer.from(proof.entry).equals(stored[42]!));

  const tiles = ledger.tiles();
  assert.equal((await tiles('/checkpoint'))!.body, note);
  const tile = Buffer.from((await tiles(tilePath(0, 0)))!.body as Uint8Array);
  assert.equal(tile.length, 256 * 32);
  assert.ok(tile.subarray(32 * 9, 32 * 10).equals(Buffer.from(hashLeaf(stored[9]!))));
  const bundle = Buffer.from((await tiles(tilePath('entries', 1, 44)))!.body as Uint8Array);
  assert.equal(bundle.readUInt16BE(0), stored[256]!.length);
  assert.equal((await tiles(tilePath(0, 1)))!.status, 404, 'the second level-0 tile is not full');

  assert.equal(await ledger.deletePayload(found.record.payloads!.trace!), true);
  await ledger.close();

  const file = join(dir, 'pg.db');
  const exported = await exportPostgresLedger({ url: PG_URL, schema }, file);
  assert.deepEqual(exported, { entries: 300, pending: 0, checkpoints: 1, payloads: 0 });
  const report = await verifyLedgerFile(file, { vkeys: [key.vkey] });
  assert.equal(report.ok, true, JSON.stringify(report.problem));
  assert.deepEqual(report.payloads, { present: 0, referenced: 1, deleted: 1 });
  assert.equal(report.root, Buffer.from(parseCheckpoint(note).root).toString('hex'));
});

test('ledger verify, export and proof read a PostgreSQL ledger by URL', { skip, timeout: 60_000 }, async () => {
  const schema = freshSchema();
  const ledger = await openLedger({ driver: driverFor(schema), origin: ORIGIN, signingKey: key.skey });
  for (let i = 0; i < 20; i++) await ledger.append(decision(i), { input: `{"n":${i}}` });
  await ledger.checkpointNow();
  await ledger.close();

  const verified = run('verify', PG_URL, '--schema', schema, '--vkey', key.vkey);
  assert.equal(verified.code, 0, verified.out + verified.err);
  assert.match(verified.out, new RegExp(`ledger postgres schema ${schema} \\(origin ${ORIGIN}\\): OK\\n\\s+entries\\s+20\\n`));
  assert.match(verified.out, /snapshot\s+20 integrated entries\n/);
  assert.doesNotMatch(verified.out + verified.err, /postgres:\/\//, 'the connection string is never printed');

  const file = join(dir, 'cli-export.db');
  const exported = run('export', PG_URL, '--schema', schema, '--sqlite', file);
  assert.equal(exported.code, 0, exported.err);
  assert.match(exported.out, /20 entries, 1 checkpoints, 20 payloads/);
  assert.equal(run('verify', file, '--vkey', key.vkey).code, 0);
  const again = run('export', PG_URL, '--schema', schema, '--sqlite', file);
  assert.equal(again.code, 2);
  assert.match(again.err, /exists already/);
  assert.equal(existsSync(`${file}.partial`), false);

  const jsonl = run('export', PG_URL, '--schema', schema).out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(jsonl.length, 20);
  assert.deepEqual(jsonl[3].record.id, 'dec-3');
  const proof = run('proof', PG_URL, '5', '--schema', schema);
  assert.equal(proof.code, 0, proof.err);
  assert.equal(verifyProofFile(proof.out, [key.vkey]).index, 5);
  assert.match(run('verify', PG_URL, '--schema', 'no_such_schema_here').err, /schema no_such_schema_here holds no ledger/);
});

test('schema migrations: replicas opening together migrate once; a newer schema version is refused', { skip }, async () => {
  const schema = freshSchema();
  const open = () => openLedger({ driver: driverFor(schema), origin: ORIGIN, signingKey: key.skey });
  const ledgers = await Promise.all([open(), open(), open()]);
  await ledgers[0]!.append(decision(1));
  await Promise.all(ledgers.map((l) => l.close()));
  assert.deepEqual(await pgQuery(`SELECT version FROM "${schema}".schema_version`), [{ version: POSTGRES_SCHEMA_VERSION }]);

  await pgQuery(`UPDATE "${schema}".schema_version SET version = $1`, [POSTGRES_SCHEMA_VERSION + 1]);
  const newer = new RegExp(`ledger schema ${schema} is at version ${POSTGRES_SCHEMA_VERSION + 1}, newer than this code supports \\(${POSTGRES_SCHEMA_VERSION}\\)`);
  await assert.rejects(open(), newer);
  await assert.rejects(exportPostgresLedger({ url: PG_URL, schema }, join(dir, 'newer.db')), newer);
  assert.equal(existsSync(join(dir, 'newer.db')), false);
  assert.throws(() => postgresDriver({ url: PG_URL, schema: 'Robert"); DROP TABLE x;--' }), /invalid PostgreSQL schema name/);
});
