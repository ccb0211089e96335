/**
 * `ledger verify` as an operator runs it: --vkey takes the ledger.vkey file as well as the key text, a failed verify
 * says how far it got instead of reading as an empty ledger, --checkpoint proves the ledger extends a checkpoint
 * saved earlier (so truncation or a rewrite is caught), and --version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { generateKey, openLedger, parseCheckpoint, verifyLedgerFile } from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const dir = tempDir();
const key = generateKey(ORIGIN);
const vkeyFile = join(dir, 'ledger.vkey');
writeFileSync(vkeyFile, `${key.vkey}\n`);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A ledger of `count` entries with a checkpoint at `saveAt` written to a file (as an auditor would keep it). */
async function ledgerWithSavedCheckpoint(name: string, count: number, saveAt: number, idPrefix = 'dec') {
  const path = join(dir, `${name}.db`);
  const ledger = await openLedger({ path, origin: ORIGIN, signingKey: key.skey, checkpointEvery: { entries: 1_000_000, ms: 0 } });
  for (let i = 0; i < saveAt; i++) await ledger.append(decision(i, { id: `${idPrefix}-${i}` }), { input: `{"n":${i}}` });
  const saved = join(dir, `${name}.checkpoint`);
  writeFileSync(saved, await ledger.checkpointNow());
  for (let i = saveAt; i < count; i++) await ledger.append(decision(i, { id: `${idPrefix}-${i}` }), { input: `{"n":${i}}` });
  await ledger.close();
  return { path, saved };
}

test('--version prints the package version', () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const r = run('--version');
  assert.equal(r.code, 0);
  assert.equal(r.out, `${version}\n`);
});

test('--vkey takes the ledger.vkey file or the key text; anything else is named', async () => {
  const { path } = await ledgerWithSavedCheckpoint('vkeys', 12, 12);
  const fromFile = run('verify', path, '--vkey', vkeyFile);
  assert.equal(fromFile.code, 0, fromFile.out + fromFile.err);
  assert.match(fromFile.out, /OK\n\s+entries\s+12\n/);
  assert.doesNotMatch(fromFile.out, /warning/);
  assert.equal(run('verify', path, '--vkey', key.vkey).code, 0);
  const proofFile = join(dir, 'vkeys.tlog-proof');
  assert.equal(run('proof', path, '3', '-o', proofFile).code, 0);
  assert.equal(run('verify-proof', proofFile, '--vkey', vkeyFile).code, 0, 'verify-proof takes the file too');
  const missing = run('verify', path, '--vkey', join(dir, 'nope.vkey'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--vkey ".*nope\.vkey" is neither a verifier key nor a file/);
  const junk = join(dir, 'junk.vkey');
  writeFileSync(junk, '# a comment\nnot a key\n');
  assert.match(run('verify', path, '--vkey', junk).err, /--vkey file .*junk\.vkey: malformed verifier key/);
  const other = join(dir, 'other.vkey');
  writeFileSync(other, `${generateKey(ORIGIN).vkey}\n`);
  const untrusted = run('verify', path, '--vkey', other);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.out, /not signed by any known key/);
});

test('a failed verify says what was checked and where it stopped, not "entries 0"', async () => {
  const { path } = await ledgerWithSavedCheckpoint('broken', 20, 20);
  const db = new Database(path);
  db.prepare("UPDATE entries SET entry = CAST(replace(CAST(entry AS TEXT), 'planning', 'PLANNING') AS BLOB) WHERE idx = 11").run();
  db.close();
  const r = run('verify', path, '--vkey', vkeyFile);
  assert.equal(r.code, 1);
  assert.match(r.out, /FAILED\n\s+entries\s+20 in the ledger, 11 verified before the first problem\n/);
  assert.match(r.out, /\n\s+payloads\s+not checked \(verify stops at the first problem\)\n/);
  assert.match(r.out, /error \(first bad index 11\): entry 11: stored leaf hash does not match the entry/);
  assert.doesNotMatch(r.out, /entries\s+0\b/);
  const report = JSON.parse(run('verify', path, '--vkey', vkeyFile, '--json').out);
  assert.deepEqual([report.ok, report.entries, report.verified, report.payloadsChecked], [false, 20, 11, false]);
});

test('--checkpoint: the ledger must extend a checkpoint saved earlier; truncation and rewrites are caught', async () => {
  const { path, saved } = await ledgerWithSavedCheckpoint('extends', 30, 20);
  const ok = run('verify', path, '--vkey', vkeyFile, '--checkpoint', saved);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /saved\s+checkpoint of size 20 \(.*extends\.checkpoint\): the ledger extends it by 10 entries/);
  const library = await verifyLedgerFile(path, { vkeys: [key.vkey], checkpoint: readFileSync(saved, 'utf8') });
  assert.deepEqual(library.saved, { size: 20, root: Buffer.from(parseCheckpoint(readFileSync(saved, 'utf8')).root).toString('hex'), consistent: true });

  // Truncation: the newest entries deleted together with every checkpoint (and payload) that covered them.
  const truncated = join(dir, 'truncated.db');
  copyFileSync(path, truncated);
  const db = new Database(truncated);
  db.prepare('DELETE FROM entries WHERE idx >= 15').run();
  db.prepare('DELETE FROM checkpoints WHERE size > 15').run();
  db.prepare("DELETE FROM payloads WHERE digest NOT IN (SELECT json_extract(CAST(entry AS TEXT), '$.payloads.input') FROM entries)").run();
  db.close();
  const alone = run('verify', truncated, '--vkey', vkeyFile);
  assert.equal(alone.code, 0, `on its own the truncated ledger verifies (the gap --checkpoint closes): ${alone.out}`);
  const cut = run('verify', truncated, '--vkey', vkeyFile, '--checkpoint', saved);
  assert.equal(cut.code, 1);
  assert.match(cut.out, /the ledger holds 15 entries but the saved checkpoint covers 20: entries were removed since it was signed \(truncation\)/);

  // A rewrite: a ledger of the same origin and key, longer than the saved checkpoint, with other entries under it.
  const { path: rewritten } = await ledgerWithSavedCheckpoint('rewritten', 25, 25, 'other');
  const changed = run('verify', rewritten, '--vkey', vkeyFile, '--checkpoint', saved);
  assert.equal(changed.code, 1);
  assert.match(changed.out, /not an extension of the saved checkpoint of size 20: entries it covers were changed \(rewrite\)/);

  const foreign = join(dir, 'foreign.checkpoint');
  const other = await openLedger({ path: ':memory:', origin: ORIGIN, signingKey: generateKey(ORIGIN).skey });
  await other.append(decision(1));
  writeFileSync(foreign, await other.checkpointNow());
  await other.close();
  assert.match(run('verify', path, '--vkey', vkeyFile, '--checkpoint', foreign).out, /saved checkpoint: note is not signed by any known key/);
  assert.match(run('verify', path, '--checkpoint', join(dir, 'missing.checkpoint')).err, /ENOENT|no such file/);
});
