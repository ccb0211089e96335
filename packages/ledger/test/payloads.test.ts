/**
 * SQLite payload storage (sqlite-payloads.ts): payloads in arrival order, the digest index merged in bulk. Lookups,
 * deduplication and retention hold across the merge, from the writer and from a read-only view in another
 * connection; files of the earlier, digest-indexed layouts are migrated on open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKey, openLedger, SqliteStore, verifyLedgerFile, type Durability } from '@oagf/ledger';
import { INDEX_EVERY } from '../src/sqlite-payloads.js';
import { ORIGIN, decision, tempDir } from './helpers.js';

const digestOf = async (ledger: Awaited<ReturnType<typeof openLedger>>, index: number) => (await ledger.getRecord(index))!.payloads!.input!;
const count = (path: string, sql: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
};

for (const durability of ['fsync', 'buffered'] as Durability[]) {
  test(`${durability}: payloads are found, deduplicated and deleted before and after the index merge, by the writer and a reader`, async () => {
    const { skey, vkey } = generateKey(ORIGIN);
    const path = join(tempDir(), 'payloads.db');
    const ledger = await openLedger({ path, origin: ORIGIN, signingKey: skey, durability });
    const total = INDEX_EVERY + 50;
    for (let from = 0; from < total; from += 256) {
      await Promise.all(Array.from({ length: Math.min(256, total - from) }, (_, i) => ledger.append(decision(from + i), { input: `payload ${from + i}` })));
    }
    // The same bytes again, on both sides of the merge: stored once.
    await ledger.append(decision(total), { input: 'payload 3' });
    await ledger.append(decision(total + 1), { input: `payload ${total - 1}` });
    const reader = new SqliteStore(path, { readonly: true });
    try {
      for (const n of [0, 3, INDEX_EVERY - 1, INDEX_EVERY + 10, total - 1]) {
        const digest = await digestOf(ledger, n);
        assert.equal(Buffer.from((await ledger.getPayload(digest))!).toString(), `payload ${n}`, `writer finds payload ${n}`);
        assert.equal(Buffer.from((await reader.payload(digest))!).toString(), `payload ${n}`, `reader finds payload ${n}`);
      }
      assert.equal(count(path, 'SELECT count(*) FROM payloads'), total);
      const indexed = count(path, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'payloads_indexed'");
      assert.ok(indexed >= INDEX_EVERY && indexed < total, `merged once the tail reached ${INDEX_EVERY} (indexed up to ${indexed})`);
      // Retention, in the index and in the tail; the same bytes appended afterwards are stored again.
      for (const n of [3, total - 1]) {
        const digest = await digestOf(ledger, n);
        assert.equal(await ledger.deletePayload(digest), true);
        assert.equal(await ledger.deletePayload(digest), false);
        assert.equal(await ledger.getPayload(digest), undefined);
        assert.equal(await reader.payload(digest), undefined);
      }
      await ledger.append(decision(total + 2), { input: `payload ${total - 1}` });
      assert.equal(Buffer.from((await ledger.getPayload(await digestOf(ledger, total - 1)))!).toString(), `payload ${total - 1}`);
    } finally {
      await reader.close();
      await ledger.close();
    }
    const report = await verifyLedgerFile(path, { vkeys: [vkey] });
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(report.payloads, { present: total - 1, referenced: total, deleted: 1 });
  });
}

test('a batch refused for a stored id leaves no payload behind, and the next one stores it', async () => {
  const { skey } = generateKey(ORIGIN);
  const ledger = await openLedger({ path: join(tempDir(), 'refused.db'), origin: ORIGIN, signingKey: skey, durability: 'buffered' });
  await ledger.append(decision(0));
  await assert.rejects(ledger.append(decision(0), { input: 'refused' }), /already holds/);
  const { index } = await ledger.append(decision(1), { input: 'refused' });
  assert.equal(Buffer.from((await ledger.getPayload(await digestOf(ledger, index)))!).toString(), 'refused');
  await ledger.close();
});

const EARLIER_LAYOUTS = {
  'digest-keyed table': 'CREATE TABLE payloads (digest TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID',
  'rowid table with a unique digest': 'CREATE TABLE payloads (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, data BLOB NOT NULL)',
};

for (const [layout, sql] of Object.entries(EARLIER_LAYOUTS)) {
  test(`a file with the earlier payload layout (${layout}) is read as it is, and migrated when opened for writing`, async () => {
    const { skey, vkey } = generateKey(ORIGIN);
    const path = join(tempDir(), 'earlier.db');
    const ledger = await openLedger({ path, origin: ORIGIN, signingKey: skey });
    for (let n = 0; n < 20; n++) await ledger.append(decision(n), { input: `payload ${n % 15}` });
    const digests = await Promise.all(Array.from({ length: 15 }, (_, n) => digestOf(ledger, n)));
    await ledger.close();
    // Back to the earlier layout, as an older gatekeeper left it.
    const old = new Database(path);
    old.exec(`ALTER TABLE payloads RENAME TO current; ${sql}; INSERT INTO payloads (digest, data) SELECT digest, data FROM current ORDER BY seq;
      DROP TABLE current; DROP TABLE payload_index; DELETE FROM meta WHERE key = 'payloads_indexed'`);
    old.close();

    const before = new SqliteStore(path, { readonly: true });
    assert.equal(Buffer.from((await before.payload(digests[7]!))!).toString(), 'payload 7', 'read-only, the earlier layout is read as it is');
    await before.close();
    assert.equal((await verifyLedgerFile(path, { vkeys: [vkey] })).ok, true);

    const reopened = await openLedger({ path, origin: ORIGIN, signingKey: skey });
    await reopened.append(decision(20), { input: 'payload 7' });
    await reopened.append(decision(21), { input: 'payload 21' });
    for (let n = 0; n < 15; n++) assert.equal(Buffer.from((await reopened.getPayload(digests[n]!))!).toString(), `payload ${n}`);
    await reopened.close();
    const check = new Database(path, { readonly: true });
    assert.doesNotMatch(String(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'payloads'").pluck().get()), /UNIQUE|WITHOUT ROWID/);
    const migrated = check.prepare('SELECT digest FROM payloads ORDER BY seq LIMIT 15').pluck().all();
    assert.deepEqual(sql.includes('seq') ? migrated : [...migrated].sort(), sql.includes('seq') ? digests : [...digests].sort(), 'arrival order kept where it was known');
    assert.equal(check.prepare('SELECT count(*) FROM payloads').pluck().get(), 16);
    assert.equal(check.prepare('SELECT count(*) FROM payload_index').pluck().get(), 15, 'what was migrated is indexed');
    check.close();
    const report = await verifyLedgerFile(path, { vkeys: [vkey] });
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(report.payloads, { present: 16, referenced: 16, deleted: 0 });
  });
}
