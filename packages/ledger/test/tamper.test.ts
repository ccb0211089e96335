/**
 * Tamper tests: change one byte of any stored entry, leaf or node hash, id or checkpoint (every row is hit at least once, at a
 * random byte) and `verify` must fail and name the index; deleting or moving rows must fail too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import { generateKey, openLedger, verifyLedgerFile, type VerifyReport } from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';

const signer = generateKey(ORIGIN);
const path = join(tempDir(), 'tamper.db');

async function buildLedger(): Promise<void> {
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: signer.skey, checkpointEvery: { entries: 16, ms: 0 } });
  for (let i = 0; i < 70; i++) await ledger.append(decision(i), i % 7 === 0 ? { reasoning: `trace ${i}` } : undefined);
  await ledger.close();
}

/** A writable side connection; durability does not matter for the test's own edits. */
function open(): Database.Database {
  const db = new Database(path);
  db.pragma('synchronous = OFF');
  return db;
}

function flipByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[randomInt(copy.length)]! ^= 1 << randomInt(8);
  return copy;
}

/** Runs verify with one row changed, then restores the row. */
async function tampered(table: string, column: string, where: string, key: number | string, change: (v: Buffer) => Buffer | string): Promise<VerifyReport> {
  const db = open();
  const original = db.prepare(`SELECT ${column} AS v FROM ${table} WHERE ${where} = ?`).get(key) as { v: Buffer | string };
  const asBytes = Buffer.isBuffer(original.v) ? original.v : Buffer.from(original.v);
  const changed = change(asBytes);
  const value = Buffer.isBuffer(original.v) ? changed : Buffer.from(changed).toString('latin1');
  db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${where} = ?`).run(value, key);
  db.close();
  try {
    return await verifyLedgerFile(path, { vkeys: [signer.vkey] });
  } finally {
    const restore = open();
    restore.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${where} = ?`).run(original.v, key);
    restore.close();
  }
}

function rows<T>(sql: string): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

test('the untouched ledger verifies', async () => {
  await buildLedger();
  const report = await verifyLedgerFile(path, { vkeys: [signer.vkey] });
  assert.equal(report.ok, true, report.problem?.message);
  assert.equal(report.entries, 70);
  assert.ok(report.checkpoints >= 5);
});

test('one changed byte in any entry or its stored leaf hash names that entry', async () => {
  for (const { idx } of rows<{ idx: number }>('SELECT idx FROM entries')) {
    for (const column of ['entry', 'leaf']) {
      const report = await tampered('entries', column, 'idx', idx, flipByte);
      assert.equal(report.ok, false, `${column} ${idx}`);
      assert.equal(report.problem?.kind, 'entry');
      assert.equal(report.problem?.index, idx, report.problem?.message);
    }
    const report = await tampered('entries', 'id', 'idx', idx, (v) => `${v}x`);
    assert.equal(report.problem?.index, idx, `id of ${idx}`);
  }
});

test('one changed byte in any stored interior node names the entry row that holds it', async () => {
  const holders = rows<{ idx: number; n: number }>('SELECT idx, length(nodes) / 32 AS n FROM entries WHERE length(nodes) > 0');
  assert.equal(holders.reduce((sum, r) => sum + r.n, 0), 67, 'a 70-leaf tree stores 70 - popcount(70) perfect interior subtrees');
  for (const { idx } of holders) {
    const report = await tampered('entries', 'nodes', 'idx', idx, flipByte);
    assert.equal(report.ok, false);
    assert.equal(report.problem?.kind, 'node');
    assert.equal(report.problem?.index, idx, report.problem?.message);
    const truncated = await tampered('entries', 'nodes', 'idx', idx, (v) => v.subarray(0, v.length - 1));
    assert.equal(truncated.problem?.index, idx, truncated.problem?.message);
  }
  const extra = await tampered('entries', 'nodes', 'idx', 0, () => Buffer.alloc(32));
  assert.equal(extra.problem?.index, 0, extra.problem?.message);
});

test('one changed byte in any checkpoint names its size', async () => {
  const checkpoints = rows<{ seq: number; size: number; note: string }>('SELECT seq, size, note FROM checkpoints');
  for (const { seq, size, note } of checkpoints) {
    for (let trial = 0; trial < 3; trial++) {
      const at = randomInt(note.length);
      const report = await tampered('checkpoints', 'note', 'seq', seq, (v) => {
        const bytes = Buffer.from(v);
        bytes[Buffer.byteLength(note.slice(0, at))]! ^= 1 << randomInt(7);
        return bytes;
      });
      assert.equal(report.ok, false, `checkpoint ${seq} byte ${at}`);
      assert.equal(report.problem?.kind, 'checkpoint');
      assert.equal(report.problem?.index, size, report.problem?.message);
    }
  }
});

test('payload bytes, deleted rows and moved rows are caught', async () => {
  const payload = rows<{ digest: string }>('SELECT digest FROM payloads')[0]!;
  const report = await tampered('payloads', 'data', 'digest', payload.digest, flipByte);
  assert.equal(report.problem?.kind, 'payload');
  assert.match(report.problem!.message, new RegExp(payload.digest));

  const mutate = async (sql: string, undo: string) => {
    const db = open();
    db.exec(sql);
    db.close();
    try {
      return await verifyLedgerFile(path, { vkeys: [signer.vkey] });
    } finally {
      const restore = open();
      restore.exec(undo);
      restore.close();
    }
  };
  type Row = { idx: number; id: string; leaf: Buffer; nodes: Buffer; entry: Buffer };
  const reinsert = (row: Row) => `INSERT INTO entries VALUES (${row.idx}, '${row.id}', x'${row.leaf.toString('hex')}', x'${row.nodes.toString('hex')}', x'${row.entry.toString('hex')}')`;
  const [middle] = rows<Row>('SELECT * FROM entries WHERE idx = 33');
  let r = await mutate('DELETE FROM entries WHERE idx = 33', reinsert(middle!));
  assert.equal(r.problem?.index, 33, r.problem?.message);
  r = await mutate('UPDATE entries SET idx = 1000 WHERE idx = 33', 'UPDATE entries SET idx = 33 WHERE idx = 1000');
  assert.equal(r.problem?.index, 33, r.problem?.message);
  const [last] = rows<Row>('SELECT * FROM entries WHERE idx = 69');
  r = await mutate('DELETE FROM entries WHERE idx = 69', reinsert(last!));
  assert.equal(r.ok, false, 'truncating the log is caught by the checkpoint covering it');
  assert.equal(r.problem?.kind, 'checkpoint');
  r = await mutate("UPDATE meta SET value = 'evil.example/log' WHERE key = 'origin'", `UPDATE meta SET value = '${ORIGIN}' WHERE key = 'origin'`);
  assert.equal(r.problem?.kind, 'checkpoint');
  const report2 = await verifyLedgerFile(path, { vkeys: [signer.vkey] });
  assert.equal(report2.ok, true, 'every change was undone');
});

test('the two-thread verify finds the same first bad index as the single-thread one', async () => {
  const idx = 1 + randomInt(68);
  for (const column of ['entry', 'leaf']) {
    const db = open();
    const original = (db.prepare(`SELECT ${column} AS v FROM entries WHERE idx = ?`).get(idx) as { v: Buffer }).v;
    db.prepare(`UPDATE entries SET ${column} = ? WHERE idx = ?`).run(flipByte(original), idx);
    db.close();
    try {
      const serial = await verifyLedgerFile(path, { vkeys: [signer.vkey], parallel: false });
      const parallel = await verifyLedgerFile(path, { vkeys: [signer.vkey], parallel: true });
      assert.equal(serial.problem?.index, idx);
      assert.deepEqual(parallel.problem, serial.problem);
    } finally {
      const restore = open();
      restore.prepare(`UPDATE entries SET ${column} = ? WHERE idx = ?`).run(original, idx);
      restore.close();
    }
  }
  const clean = await verifyLedgerFile(path, { vkeys: [signer.vkey], parallel: true });
  assert.equal(clean.ok, true, clean.problem?.message);
  assert.deepEqual(clean.payloads, (await verifyLedgerFile(path, { vkeys: [signer.vkey], parallel: false })).payloads);
});
