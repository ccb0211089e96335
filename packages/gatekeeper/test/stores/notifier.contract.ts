/** The contract every Notifier must pass: subscribers of a topic get its notices, in order, until they unsubscribe. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Notice, Notifier } from '../../src/stores/notifier.js';

/** `open(n)` returns n notifiers connected to one another (one per replica for a shared driver). */
export function notifierContract(driver: string, open: (n: number) => Promise<Notifier[]>, settle = () => new Promise((r) => setTimeout(r, 20))): void {
  describe(`Notifier contract: ${driver}`, () => {
    it('delivers every notice of a topic to its subscribers, in order, and nothing after unsubscribe', async () => {
      const [a, b] = await open(2);
      const seenA: Notice[] = [];
      const seenB: Notice[] = [];
      const offA = a!.subscribe('approvals', (n) => seenA.push(n));
      b!.subscribe('approvals', (n) => seenB.push(n));
      b!.subscribe('other', () => assert.fail('another topic'));
      await a!.publish('approvals', { event: 'created', id: 'apr_1' });
      await a!.publish('approvals', { event: 'decided', id: 'apr_1', status: 'approved' });
      await settle();
      offA();
      await a!.publish('approvals', { event: 'used', id: 'apr_1' });
      await settle();
      assert.deepEqual(seenA.map((n) => n.event), ['created', 'decided']);
      assert.deepEqual(seenB, [{ event: 'created', id: 'apr_1' }, { event: 'decided', id: 'apr_1', status: 'approved' }, { event: 'used', id: 'apr_1' }]);
      await Promise.all([a!.close(), b!.close()]);
    });
  });
}
