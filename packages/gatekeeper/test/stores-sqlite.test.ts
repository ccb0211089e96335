import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteBudgetStore } from '../src/stores/sqlite/budgets.js';
import { MemoryNotifier } from '../src/stores/memory/notifier.js';
import { SqliteApprovalStore } from '../src/stores/sqlite/approvals.js';
import { SqliteSessionStore } from '../src/stores/sqlite/sessions.js';
import { approvalStoreContract } from './stores/approvals.contract.js';
import { budgetStoreContract } from './stores/budgets.contract.js';
import { notifierContract } from './stores/notifier.contract.js';
import { sessionStoreContract } from './stores/sessions.contract.js';
import { sessionHistoryContract } from './stores/session-history.contract.js';
import { SqliteSessionHistoryStore } from '../src/stores/sqlite/session-history.js';

const dir = mkdtempSync(join(tmpdir(), 'gk-stores-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshStore = () => new SqliteBudgetStore(join(dir, `b${++n}.db`));

/** The store contracts (test/stores/*.contract.ts) against the embedded drivers; PostgreSQL runs the same suites. */
budgetStoreContract('sqlite', async () => freshStore());
approvalStoreContract('sqlite', async () => new SqliteApprovalStore(join(dir, `a${++n}.db`)));
sessionStoreContract('sqlite', async () => new SqliteSessionStore(join(dir, `s${++n}.db`)));
sessionHistoryContract('sqlite', async (limits) => new SqliteSessionHistoryStore(join(dir, `h${++n}.db`), limits));
notifierContract('memory (one process)', async (count) => {
  const shared = new MemoryNotifier();
  return Array.from({ length: count }, () => shared);
});

describe('SqliteBudgetStore across processes', () => {
  it('four processes racing 200 reservations on one database file: exactly 50 succeed', async () => {
    const path = join(dir, 'shared.db');
    await new SqliteBudgetStore(path).close(); // create the schema before the race
    const storeModule = fileURLToPath(new URL('../src/stores/sqlite/budgets.ts', import.meta.url));
    const racer = `
      const { SqliteBudgetStore } = await import(${JSON.stringify(storeModule)});
      const store = new SqliteBudgetStore(process.argv[1]);
      const won = [];
      while (Date.now() < Number(process.argv[3])); // start together, so the reservations really interleave
      for (let i = 0; i < 50; i++) {
        const id = 'p' + process.argv[2] + '-' + i;
        const r = await store.reserve({ id, now: 1, expiresAt: 1e9, lines: [{ budgetId: 'b', subject: 's',
          windowStart: 0, meter: 'action_amount', cap: 50n * 7n, amount: 7n }] });
        if (r.ok) won.push(id);
      }
      await store.close();
      process.stdout.write(JSON.stringify(won));`;
    const startAt = Date.now() + 2_000;
    const winners = (
      await Promise.all(
        [0, 1, 2, 3].map(
          (p) =>
            new Promise<string[]>((resolve, reject) => {
              const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', racer, path, String(p), String(startAt)]);
              let out = '';
              let err = '';
              child.stdout.on('data', (d) => (out += d));
              child.stderr.on('data', (d) => (err += d));
              child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
            }),
        ),
      )
    ).flat();
    assert.equal(winners.length, 50);
    const store = new SqliteBudgetStore(path);
    const actual = (id: string) => BigInt(id.length); // differs per call, below the 7 held
    for (const id of winners) await store.settle(id, { action_amount: actual(id) }, 2);
    const [c] = await store.counters([{ budgetId: 'b', subject: 's', windowStart: 0 }]);
    assert.equal(c!.reserved, 0n);
    assert.equal(c!.committed, winners.reduce((s, id) => s + actual(id), 0n));
    await store.close();
  });
});

describe('SqliteSessionHistoryStore shared by two processes', () => {
  it("each reads what the other appended and updated (its cache follows the session's revision)", async () => {
    const path = join(dir, 'history-shared.db');
    const limits = { maxEntries: 5, ttlMs: 60_000 };
    const [a, b] = [new SqliteSessionHistoryStore(path, limits), new SqliteSessionHistoryStore(path, limits)];
    const entry = (id: string, time: number) => ({ id, index: 0, time, agent: 'x', kind: 'llm.tool_call', target: {}, digest: 'sha256:0', decision: 'allow' as const });
    await a.append('s', entry('r1', 10));
    assert.deepEqual((await b.recent('s', 20)).map((e) => e.id), ['r1']);
    assert.deepEqual((await a.recent('s', 20)).map((e) => e.id), ['r1'], 'a has it cached now');
    await b.append('s', entry('r2', 11));
    await a.append('s', entry('r3', 12));
    assert.deepEqual((await a.recent('s', 20)).map((e) => e.id), ['r1', 'r2', 'r3'], 'a sees b\'s append between its own');
    await b.update('s', 'r1', { outcome: 'failed' });
    assert.equal((await a.recent('s', 20))[0]!.outcome, 'failed', 'and b\'s update');
    // b sweeps a session away and it starts over with as many entries: a must not keep its old ones.
    await b.append('u', entry('u1', 13));
    assert.deepEqual((await a.recent('u', 20)).map((e) => e.id), ['u1']);
    assert.equal(await b.sweep(60_020), 4);
    await b.append('u', entry('u2', 60_030));
    assert.deepEqual((await a.recent('u', 60_040)).map((e) => e.id), ['u2']);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('SqliteSessionHistoryStore appends of one turn', () => {
  it('share one transaction: when one of them cannot be written, none is kept, none is seen, and each append fails', async () => {
    const store = new SqliteSessionHistoryStore(join(dir, 'history-batch.db'), { maxEntries: 5, ttlMs: 60_000 });
    const entry = (id: string, time: number, extra = {}) => ({ id, index: 0, time, agent: 'x', kind: 'llm.tool_call', target: {}, digest: 'sha256:0', decision: 'allow' as const, ...extra });
    await store.append('s', entry('r0', 9));
    assert.deepEqual((await store.recent('s', 20)).map((e) => e.id), ['r0'], 'the session is cached');
    // A BigInt cannot be encoded: the second insert of the batch throws after the first went into the cache.
    const results = await Promise.allSettled([store.append('s', entry('r1', 10)), store.append('s', entry('r2', 11, { target: { n: 1n } }))]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.deepEqual((await store.recent('s', 20)).map((e) => e.id), ['r0'], 'the rolled-back append is not seen');
    await store.append('s', entry('r3', 12));
    assert.deepEqual((await store.recent('s', 20)).map((e) => e.id), ['r0', 'r3']);
    await store.close();
  });
});
