/** The contract every SessionHistoryStore driver must pass (session-aware policies). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionEntry, SessionHistoryLimits, SessionHistoryStore } from '../../src/stores/session-history.js';

const entry = (id: string, time: number, extra: Partial<SessionEntry> = {}): SessionEntry => ({
  id,
  index: Number(id.replace(/\D/g, '') || 0),
  time,
  agent: 'buyer',
  kind: 'llm.tool_call',
  target: { tool: 'place_order' },
  digest: `sha256:${id}`,
  decision: 'allow',
  ...extra,
});

export function sessionHistoryContract(driver: string, open: (limits: SessionHistoryLimits) => Promise<SessionHistoryStore>): void {
  describe(`SessionHistoryStore contract: ${driver}`, () => {
    it('keeps entries per session, oldest first, with every field as appended', async () => {
      const store = await open({ maxEntries: 10, ttlMs: 1000 });
      const full = entry('r1', 100, { amount: { value: 900000, currency: 'USD' }, callId: 'call_1', labels: [{ label: 'private', source: 'read_document' }], outcome: 'completed', status: 200 });
      await store.append('s1|buyer', full);
      await store.append('s1|buyer', entry('r2', 110));
      await store.append('s2|buyer', entry('r3', 120));
      assert.deepEqual(await store.recent('s1|buyer', 200), [full, entry('r2', 110)]);
      assert.deepEqual(await store.recent('s2|buyer', 200), [entry('r3', 120)]);
      assert.deepEqual(await store.recent('unknown', 200), []);
      await store.close();
    });

    it('is bounded: only the newest maxEntries are returned, however many were appended', async () => {
      const store = await open({ maxEntries: 3, ttlMs: 10_000 });
      for (let i = 1; i <= 40; i++) await store.append('s', entry(`r${i}`, i));
      assert.deepEqual((await store.recent('s', 50)).map((e) => e.id), ['r38', 'r39', 'r40']);
      await store.append('t', entry('t1', 41));
      assert.deepEqual((await store.recent('s', 50)).map((e) => e.id), ['r38', 'r39', 'r40'], 'another session does not push them out');
      await store.close();
    });

    it('expires: entries older than ttlMs are not returned, and sweep removes them', async () => {
      const store = await open({ maxEntries: 10, ttlMs: 100 });
      await store.append('s', entry('r1', 1000));
      await store.append('s', entry('r2', 1050));
      await store.append('t', entry('r3', 1010));
      assert.deepEqual((await store.recent('s', 1100)).map((e) => e.id), ['r2'], 'r1 is exactly ttl old: gone');
      assert.equal(await store.sweep(1120), 2);
      assert.deepEqual((await store.recent('s', 1000)).map((e) => e.id), ['r2'], 'swept entries are gone even at an earlier now');
      await store.close();
    });

    it('updates an entry in place (outcome, status, fingerprints); unknown ids are ignored', async () => {
      const store = await open({ maxEntries: 10, ttlMs: 1000 });
      await store.append('s', entry('r1', 100, { labels: [{ label: 'untrusted', source: 'fetch_page' }] }));
      const hashes = new Uint32Array([1, 7, 0xffffffff]);
      await store.update('s', 'r1', { outcome: 'completed', status: 200, print: { chars: 42, hashes } });
      await store.update('s', 'nope', { outcome: 'failed' });
      const [got] = await store.recent('s', 200);
      assert.equal(got!.outcome, 'completed');
      assert.equal(got!.status, 200);
      assert.deepEqual(got!.labels, [{ label: 'untrusted', source: 'fetch_page' }]);
      assert.equal(got!.print!.chars, 42);
      assert.deepEqual([...got!.print!.hashes], [1, 7, 0xffffffff]);
      assert.equal((await store.recent('s', 200)).length, 1);
      await store.close();
    });
  });
}
