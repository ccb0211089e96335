/**
 * Verify checks whole chunks of rows in bulk and re-reads only a failing chunk row by row, with chunks shared
 * between two threads: problems past the first chunk must still name the first bad index, the same on one thread
 * and on two.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import { formatCheckpoint, generateKey, openLedger, signNote, verifyLedgerFile, type VerifyReport } from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';

const signer = generateKey(ORIGIN);
const path = join(tempDir(), 'chunks.db');
const SIZE = 9000;

before(async () => {
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: signer.skey, checkpointEvery: { entries: 1000, ms: 0 } });
  for (let start = 0; start < SIZE; start += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => ledger.append(decision(start + i), (start + i) % 500 === 7 ? { reasoning: `trace ${start + i}` } : undefined)));
  }
  await ledger.checkpointNow();
  await ledger.close();
});

/** Serial and two-thread verify must agree exactly. */
async function verifyBoth(): Promise<VerifyReport> {
  const serial = await verifyLedgerFile(path, { vkeys: [signer.vkey], parallel: false });
  const parallel = await verifyLedgerFile(path, { vkeys: [signer.vkey], parallel: true });
  assert.deepEqual(parallel.problem, serial.problem);
  assert.deepEqual(parallel.payloads, serial.payloads);
  return serial;
}

function run(sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  db.pragma('synchronous = OFF');
  db.prepare(sql).run(...params);
  db.close();
}

function cell(column: string, idx: number): Buffer | string {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT ${column} FROM entries WHERE idx = ?`).pluck().get(idx) as Buffer | string;
  } finally {
    db.close();
  }
}

function flipped(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[randomInt(copy.length)]! ^= 1 << randomInt(8);
  return copy;
}

/** Applies the changes, verifies, restores every changed cell. */
async function withChanges(changes: [column: string, idx: number, change: (v: Buffer | string) => Buffer | string][]): Promise<VerifyReport> {
  const originals = changes.map(([column, idx]) => [column, idx, cell(column, idx)] as const);
  for (const [column, idx, change] of changes) run(`UPDATE entries SET ${column} = ? WHERE idx = ?`, change(cell(column, idx)), idx);
  try {
    return await verifyBoth();
  } finally {
    for (const [column, idx, original] of originals) run(`UPDATE entries SET ${column} = ? WHERE idx = ?`, original, idx);
  }
}

const flip = (v: Buffer | string) => flipped(v as Buffer);

test('a long untouched ledger verifies alike on one thread and two, payloads included', async () => {
  const report = await verifyBoth();
  assert.equal(report.ok, true, report.problem?.message);
  assert.equal(report.entries, SIZE);
  assert.deepEqual(report.payloads, { present: 18, referenced: 18, deleted: 0 });
});

test('a changed entry, leaf, id or interior node in a later chunk names its index', async () => {
  const cases: [string, number, 'entry' | 'node'][] = [
    ['entry', 4096 + randomInt(4000), 'entry'],
    ['leaf', 8192 + randomInt(800), 'entry'],
    ['id', 4096 + randomInt(4000), 'entry'],
    ['nodes', 4095, 'node'],
    ['nodes', 4097 + 2 * randomInt(2000), 'node'],
  ];
  for (const [column, idx, kind] of cases) {
    const report = await withChanges([[column, idx, column === 'id' ? (v) => `${v}x` : flip]]);
    assert.equal(report.ok, false, `${column} ${idx}`);
    assert.equal(report.problem?.kind, kind, report.problem?.message);
    assert.equal(report.problem?.index, idx, report.problem?.message);
  }
});

test('with bad rows in several chunks the lowest index is named', async () => {
  const low = 4096 + randomInt(2000);
  let report = await withChanges([['entry', 8500, flip], ['leaf', low, flip]]);
  assert.equal(report.problem?.index, low, report.problem?.message);
  report = await withChanges([['nodes', 7001, flip], ['entry', 6000, flip]]);
  assert.equal(report.problem?.index, 6000, report.problem?.message);
  report = await withChanges([['entry', 7001, flip], ['nodes', 5001, (v) => (v as Buffer).subarray(1)]]);
  assert.equal(report.problem?.index, 5001, report.problem?.message);
});

test('a validly signed checkpoint whose root does not match the entries names its size', async () => {
  const db = new Database(path, { readonly: true });
  const { seq, note } = db.prepare('SELECT seq, note FROM checkpoints WHERE size = 5000').get() as { seq: number; note: string };
  db.close();
  const forged = signNote(formatCheckpoint(ORIGIN, 5000, new Uint8Array(32).fill(7)), signer.skey);
  const edit = (text: string) => {
    const side = new Database(path);
    side.prepare('UPDATE checkpoints SET note = ? WHERE seq = ?').run(text, seq);
    side.close();
  };
  edit(forged);
  try {
    const report = await verifyBoth();
    assert.equal(report.problem?.kind, 'checkpoint');
    assert.equal(report.problem?.index, 5000, report.problem?.message);
  } finally {
    edit(note);
  }
  assert.equal((await verifyBoth()).ok, true);
});
