import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openLedger } from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const dir = tempDir();

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('keygen, verify, proof, verify-proof, export as a user runs them', async () => {
  const keygen = run('keygen', ORIGIN, '--json');
  assert.equal(keygen.code, 0, keygen.err);
  const { skey, vkey } = JSON.parse(keygen.out) as { skey: string; vkey: string };
  assert.match(run('keygen', ORIGIN).out, /# verifier key[^\n]*\n[^\n]+\n# signing key \(SECRET/);

  const db = join(dir, 'cli.db');
  const ledger = await openLedger({ path: db, origin: ORIGIN, signingKey: skey });
  for (let i = 0; i < 20; i++) await ledger.append(decision(i));
  await ledger.close();

  const ok = run('verify', db, '--vkey', vkey);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /OK\n\s+entries\s+20\n/);
  assert.doesNotMatch(ok.out, /warning/);
  assert.match(run('verify', db).out, /warning: checked against the keys recorded in the database/);
  assert.equal(JSON.parse(run('verify', db, '--json').out).entries, 20);

  const proofPath = join(dir, 'entry-7.tlog-proof');
  assert.equal(run('proof', db, '7', '-o', proofPath).code, 0);
  const checked = run('verify-proof', proofPath, '--vkey', vkey);
  assert.equal(checked.code, 0, checked.err);
  assert.match(checked.out, new RegExp(`^OK: entry 7 is in ${ORIGIN} at size 20`));
  assert.deepEqual(JSON.parse(checked.out.split('\n')[1]!), decision(7));
  const wrongKey = run('verify-proof', proofPath, '--vkey', JSON.parse(run('keygen', ORIGIN, '--json').out).vkey);
  assert.equal(wrongKey.code, 2);
  assert.match(wrongKey.err, /not signed by any known key/);
  assert.match(run('proof', db, '20').err, /not covered by a checkpoint/);
  assert.match(run('proof', db, 'x').err, /index must be a non-negative integer/);

  const exported = run('export', db).out.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(exported.length, 20);
  assert.deepEqual(exported[3].record, decision(3));
  assert.match(exported[3].leaf_hash, /^[0-9a-f]{64}$/);
  const exportPath = join(dir, 'export.jsonl');
  assert.equal(run('export', db, '-o', exportPath).code, 0);
  assert.equal(readFileSync(exportPath, 'utf8').trim().split('\n').length, 20);

  const sqlite = new Database(db);
  sqlite.prepare("UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), 'planning', 'PLANNING') AS BLOB) WHERE idx = 11").run();
  sqlite.close();
  const bad = run('verify', db, '--vkey', vkey);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /FAILED[\s\S]*error \(first bad index 11\): entry 11: stored leaf hash does not match the entry/);
  assert.match(run('verify', join(dir, 'missing.db')).err, /ledger: .*(unable to open|does not exist|directory does not exist)/i);
});
