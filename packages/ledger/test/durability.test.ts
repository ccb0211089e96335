/**
 * Durability modes of a file-backed ledger (fsync commits on a writer thread; buffered commits small batches
 * inline and larger ones on the thread, and checkpoints on a second thread): both survive a reopen, and each sets
 * the SQLite synchronous level it documents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DURABILITIES, generateKey, openLedger, verifyLedgerFile, type Durability } from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';
import { synchronousPragma } from '../src/sqlite-writer.js';

for (const durability of DURABILITIES) {
  test(`durability ${durability}: concurrent appends get consecutive indexes, survive a reopen and verify`, async () => {
    const { skey, vkey } = generateKey(ORIGIN);
    const path = join(tempDir(), `${durability}.db`);
    const ledger = await openLedger({ path, origin: ORIGIN, signingKey: skey, durability });
    const results = await Promise.all(Array.from({ length: 200 }, (_, n) => ledger.append(decision(n), { input: `{"n":${n}}` })));
    assert.deepEqual(results.map((r) => r.index), Array.from({ length: 200 }, (_, n) => n));
    await ledger.close();

    const reopened = await openLedger({ path, origin: ORIGIN, signingKey: skey, durability });
    assert.equal(reopened.size(), 200);
    assert.equal((await reopened.findById('dec-137'))?.index, 137);
    // One append alone is a batch of one: in buffered mode it commits inline, the 200 above mostly on the thread.
    assert.equal((await reopened.append(decision(200), { input: '{"n":200}' })).index, 200);
    await reopened.close();
    const report = await verifyLedgerFile(path, { vkeys: [vkey] });
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.entries, 201);
    assert.deepEqual(report.payloads, { present: 201, referenced: 201, deleted: 0 });
  });
}

test('each durability maps to its SQLite synchronous level; an unknown one is refused by name', async () => {
  const db = new Database(':memory:');
  const level = (d: Durability) => {
    db.pragma(synchronousPragma(d));
    return db.pragma('synchronous', { simple: true });
  };
  assert.equal(level('fsync'), 2); // FULL
  assert.equal(level('buffered'), 1); // NORMAL
  db.close();
  const { skey } = generateKey(ORIGIN);
  await assert.rejects(
    openLedger({ path: join(tempDir(), 'x.db'), origin: ORIGIN, signingKey: skey, durability: 'sometimes' as Durability }),
    /unknown ledger durability "sometimes"; expected one of fsync, buffered/,
  );
});
