/**
 * The contract every BudgetStore driver must pass: exact escrow (all or nothing across budgets, caps counting
 * committed plus reserved), lapses, windows, and exactness under concurrency.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BudgetStore, ReservationLine } from '../../src/stores/budgets.js';

const line = (over: Partial<ReservationLine> = {}): ReservationLine => ({
  budgetId: 'b',
  subject: 'agent-1',
  windowStart: 0,
  meter: 'llm_spend',
  cap: 1_000n,
  amount: 100n,
  ...over,
});

export function budgetStoreContract(driver: string, open: () => Promise<BudgetStore>): void {
  describe(`BudgetStore contract: ${driver}`, () => {
    it('holds on reserve, moves the actual cost to committed on settle, and frees the rest', async () => {
      const store = await open();
      const r = await store.reserve({ id: 'r1', lines: [line({ amount: 300n })], now: 1, expiresAt: 1000 });
      assert.equal(r.ok, true);
      assert.deepEqual(await store.counters([line()]), [{ budgetId: 'b', subject: 'agent-1', windowStart: 0, committed: 0n, reserved: 300n }]);
      assert.deepEqual(await store.settle('r1', { llm_spend: 120n }, 2), { status: 'settled', charged: 120n });
      const [c] = await store.counters([line()]);
      assert.equal(c!.committed, 120n);
      assert.equal(c!.reserved, 0n);
      assert.deepEqual(await store.settle('r1', { llm_spend: 5n }, 3), { status: 'not_open', state: 'settled' });
      await store.close();
    });

    it('release charges nothing; an unknown id is reported, not invented', async () => {
      const store = await open();
      await store.reserve({ id: 'r1', lines: [line()], now: 1, expiresAt: 1000 });
      assert.deepEqual(await store.release('r1', 'upstream_error', 2), { status: 'released', charged: 0n });
      const [c] = await store.counters([line()]);
      assert.deepEqual([c!.committed, c!.reserved], [0n, 0n]);
      assert.deepEqual(await store.release('nope', 'x', 3), { status: 'not_open', state: 'unknown' });
      await store.close();
    });

    it('refuses past the cap counting committed plus reserved, and reports the counter it hit', async () => {
      const store = await open();
      assert.equal((await store.reserve({ id: 'a', lines: [line({ amount: 600n })], now: 1, expiresAt: 99 })).ok, true);
      await store.settle('a', { llm_spend: 500n }, 2);
      assert.equal((await store.reserve({ id: 'b', lines: [line({ amount: 400n })], now: 3, expiresAt: 99 })).ok, true);
      const refused = await store.reserve({ id: 'c', lines: [line({ amount: 101n })], now: 4, expiresAt: 99 });
      assert.equal(refused.ok, false);
      if (!refused.ok) assert.deepEqual([refused.counter.committed, refused.counter.reserved, refused.line.amount], [500n, 400n, 101n]);
      assert.equal((await store.reserve({ id: 'd', lines: [line({ amount: 100n })], now: 5, expiresAt: 99 })).ok, true);
      await store.close();
    });

    it('is all-or-nothing across budgets: one full budget holds nothing on the others', async () => {
      const store = await open();
      const team = line({ budgetId: 'team', subject: 'ops', cap: 50n });
      const agent = line({ budgetId: 'agent', cap: 10_000n });
      const r = await store.reserve({ id: 'x', lines: [agent, team], now: 1, expiresAt: 99 });
      assert.equal(r.ok, false);
      const states = await store.counters([agent, team]);
      assert.deepEqual(states.map((s) => s.reserved), [0n, 0n]);
      await store.close();
    });

    it('lets overdue reservations lapse and still records spend settled after the lapse', async () => {
      const store = await open();
      await store.reserve({ id: 'old', lines: [line({ amount: 900n })], now: 0, expiresAt: 100 });
      const early = await store.reserve({ id: 'early', lines: [line({ amount: 200n })], now: 99, expiresAt: 500 });
      assert.equal(early.ok, false, 'the hold is still live before it expires');
      const late = await store.reserve({ id: 'late', lines: [line({ amount: 200n })], now: 100, expiresAt: 500 });
      assert.equal(late.ok, true, 'reserve sweeps the lapsed hold first');
      assert.equal((await store.counters([line()]))[0]!.reserved, 200n);
      assert.deepEqual(await store.settle('old', { llm_spend: 30n }, 150), { status: 'settled_after_expiry', charged: 30n });
      const [c] = await store.counters([line()]);
      assert.deepEqual([c!.committed, c!.reserved], [30n, 200n]);
      await store.close();
    });

    it('expire() frees every overdue hold and reports how many', async () => {
      const store = await open();
      for (let i = 0; i < 3; i++) await store.reserve({ id: `r${i}`, lines: [line({ amount: 10n })], now: i, expiresAt: 10 + i });
      assert.equal(await store.expire(11), 2);
      assert.equal((await store.counters([line()]))[0]!.reserved, 10n);
      await store.close();
    });

    it('counts each window separately and lists one budget window', async () => {
      const store = await open();
      await store.reserve({ id: 'd1', lines: [line({ windowStart: 1000 })], now: 1, expiresAt: 99 });
      await store.reserve({ id: 'd2', lines: [line({ windowStart: 2000, subject: 'z' })], now: 1, expiresAt: 99 });
      await store.reserve({ id: 'd3', lines: [line({ windowStart: 2000, subject: 'a' })], now: 1, expiresAt: 99 });
      assert.deepEqual((await store.countersInWindow('b', 2000)).map((c) => c.subject), ['a', 'z']);
      assert.equal((await store.countersInWindow('b', 1000)).length, 1);
      await store.close();
    });

    it('200 concurrent reservations against a cap that fits exactly 50: 50 succeed, spend equals the actual costs', async () => {
      const store = await open();
      const perCall = 1_000_000n; // worst case held per call
      const cap = 50n * perCall;
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.reserve({ id: `c${i}`, lines: [line({ cap, amount: perCall })], now: 1, expiresAt: 10_000 }),
        ),
      );
      const won = results.flatMap((r, i) => (r.ok ? [i] : []));
      assert.equal(won.length, 50);
      // Actual costs differ per call and are below the worst case.
      const actual = (i: number) => 400_000n + BigInt(i) * 17n;
      await Promise.all(won.map((i) => store.settle(`c${i}`, { llm_spend: actual(i) }, 2)));
      const [c] = await store.counters([line()]);
      assert.equal(c!.reserved, 0n);
      assert.equal(c!.committed, won.reduce((s, i) => s + actual(i), 0n));
      await store.close();
    });
  });
}
