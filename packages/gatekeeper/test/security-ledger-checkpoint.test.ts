/**
 * Security class 12, online: a checkpoint an auditor saved earlier is checked against the live ledger through the
 * console API (`ledger verify --checkpoint` is the offline twin). Truncating the ledger — the newest entries and
 * their checkpoints deleted — or rewriting it under the same key is reported; a ledger that only grew is consistent.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateKey } from '@oagf/ledger';
import { hashPassword } from '../src/approvals/accounts.js';
import { KEYS, post, startGatekeeper } from './core/fixture.js';

const shared = mkdtempSync(join(tmpdir(), 'gk-ckpt-'));
const key = generateKey('test.local/ledger');
writeFileSync(join(shared, 'ledger.skey'), key.skey);

async function gatekeeperOn(ledgerFile: string) {
  const password_hash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
  return startGatekeeper({
    config: {
      ledger: { path: ledgerFile, signing_key_file: join(shared, 'ledger.skey'), origin: 'test.local/ledger' },
      approvals: { database: ':memory:', signing_key_file: join(shared, 'approval.pem'), accounts: [{ username: 'audrey', password_hash, roles: ['auditor'] }] },
    },
  });
}

const decide = (url: string, n: number) => post(`${url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'check_inventory' }, arguments: { n } } }, KEYS.buyer);
const check = async (url: string, note: string) => {
  const res = await fetch(`${url}/console/api/ledger/checkpoint`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('audrey:pw').toString('base64')}` }, body: note });
  assert.equal(res.status, 200);
  return (await res.json()) as { consistent: boolean; problem?: string; saved_size?: number; current_size: number };
};

test('a grown ledger is consistent with a saved checkpoint; truncation and a rewrite are reported', async () => {
  const file = join(shared, 'ledger.db');
  const first = await gatekeeperOn(file);
  let early: string;
  try {
    for (let i = 0; i < 3; i++) await decide(first.url, i);
    early = await first.gk.deps.ledger!.checkpointNow();
  } finally {
    await first.close();
  }
  copyFileSync(file, join(shared, 'at-3.db'));
  const a = await gatekeeperOn(file);
  let late: string;
  try {
    for (let i = 3; i < 8; i++) await decide(a.url, i);
    late = await a.gk.deps.ledger!.checkpointNow();
    assert.deepEqual(await check(a.url, early), { consistent: true, saved_size: 3, current_size: 8 });
    assert.deepEqual(await check(a.url, late), { consistent: true, saved_size: 8, current_size: 8 });
    const forged = late.replace(/\n\d+\n/, '\n9\n');
    assert.match((await check(a.url, forged)).problem!, /not a checkpoint signed by this ledger's key/);
    assert.match((await check(a.url, 'hello')).problem!, /not a checkpoint signed/);
  } finally {
    await a.close();
  }

  // The newest five entries and their checkpoints deleted: the ledger at size 3 verifies on its own, but not against `late`.
  const truncated = await gatekeeperOn(join(shared, 'at-3.db'));
  try {
    const r = await check(truncated.url, late);
    assert.equal(r.consistent, false);
    assert.match(r.problem!, /covers 8 entries, the ledger holds 3: entries were removed \(truncation\)/);
    assert.equal((await check(truncated.url, early)).consistent, true);
  } finally {
    await truncated.close();
  }

  // Rewritten from scratch with the same key (as an operator could): the early checkpoint no longer matches.
  const rewritten = await gatekeeperOn(join(shared, 'rewritten.db'));
  try {
    for (let i = 100; i < 104; i++) await decide(rewritten.url, i);
    await rewritten.gk.deps.ledger!.checkpointNow();
    const r = await check(rewritten.url, early);
    assert.equal(r.consistent, false);
    assert.match(r.problem!, /first 3 entries no longer hash to the checkpoint's root: they were rewritten/);
  } finally {
    await rewritten.close();
  }
});
