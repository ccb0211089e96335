import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CommitPacer } from '../src/pacer.js';

/** Resolves `count` appends whose callers then work for `ms` before the event loop moves on. */
async function burst(pacer: CommitPacer, count: number, ms: number): Promise<void> {
  pacer.resolved(count);
  const end = performance.now() + ms;
  while (performance.now() < end);
  await nextTurn();
}

test('the pacer splits rounds only while a commit is quicker than the callers it waits for', async () => {
  const pacer = new CommitPacer();
  assert.equal(pacer.split(64), false, 'no commit measured yet');
  await burst(pacer, 64, 20);
  // Far apart on purpose: a busy machine stretches the measured burst, never shrinks it.
  pacer.committed(5);
  assert.equal(pacer.split(64), true, 'a 5 ms commit against a 20 ms burst');
  assert.equal(pacer.split(1), false, 'one caller works a 64th of that: too little to overlap');
  pacer.committed(10_000);
  assert.equal(pacer.split(64), false, 'a very slow disk: one fsync per round');
});

test('commits on the event loop (in-memory stores, small buffered batches) are never split: there is nothing to overlap', async () => {
  const pacer = new CommitPacer();
  await burst(pacer, 64, 20);
  pacer.committed(0);
  assert.equal(pacer.split(64), false);
});
