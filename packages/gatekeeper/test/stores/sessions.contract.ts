/** The contract every SessionStore driver must pass (console sign-ins). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionStore } from '../../src/stores/sessions.js';

export function sessionStoreContract(driver: string, open: () => Promise<SessionStore>): void {
  describe(`SessionStore contract: ${driver}`, () => {
    it('a session is found until it expires, then gone; delete ends it; sweep removes the expired', async () => {
      const store = await open();
      await store.create('h1', { username: 'priya', expiresAt: 1000 });
      await store.create('h2', { username: 'omar', expiresAt: 5000 });
      assert.deepEqual(await store.get('h1', 999), { username: 'priya', expiresAt: 1000 });
      assert.equal(await store.get('h1', 1000), undefined, 'expired at its expiry time');
      assert.equal(await store.get('h1', 10), undefined, 'and removed');
      assert.equal(await store.get('nope', 10), undefined);
      await store.delete('h2');
      assert.equal(await store.get('h2', 10), undefined);
      await store.create('h3', { username: 'a', expiresAt: 10 });
      await store.create('h4', { username: 'b', expiresAt: 20 });
      assert.equal(await store.sweep(15), 1);
      assert.deepEqual(await store.get('h4', 15), { username: 'b', expiresAt: 20 });
      await store.close();
    });

    it('a single sign-on session keeps the reviewer the identity provider named', async () => {
      const store = await open();
      const reviewer = { displayName: 'Priya Raman', roles: ['reviewer' as const], groups: ['procurement-leads'], via: 'oidc' };
      await store.create('sso', { username: 'priya@acme.example', expiresAt: 1000, reviewer });
      assert.deepEqual(await store.get('sso', 1), { username: 'priya@acme.example', expiresAt: 1000, reviewer });
      await store.close();
    });

    it('failed sign-ins are counted per key, start over after the window, clear and sweep', async () => {
      const store = await open();
      assert.equal(await store.loginFailures('account:dana'), undefined);
      assert.deepEqual(await store.addLoginFailure('account:dana', 1000, 500), { failures: 1, lastFailureAt: 1000 });
      assert.deepEqual(await store.addLoginFailure('account:dana', 1200, 500), { failures: 2, lastFailureAt: 1200 });
      assert.deepEqual(await store.addLoginFailure('address:10.0.0.1', 1200, 500), { failures: 1, lastFailureAt: 1200 }, 'keys count apart');
      assert.deepEqual(await store.loginFailures('account:dana'), { failures: 2, lastFailureAt: 1200 });
      assert.deepEqual(await store.addLoginFailure('account:dana', 1700, 500), { failures: 1, lastFailureAt: 1700 }, 'a window without failures starts over');
      await store.clearLoginFailures('account:dana');
      assert.equal(await store.loginFailures('account:dana'), undefined);
      await store.addLoginFailure('account:omar', 5000, 500);
      assert.equal(await store.sweepLoginFailures(2000), 1);
      assert.deepEqual(await store.loginFailures('account:omar'), { failures: 1, lastFailureAt: 5000 });
      await store.close();
    });

    it('concurrent failures are all counted', async () => {
      const store = await open();
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.addLoginFailure('account:x', 100 + i, 60_000)));
      assert.equal((await store.loginFailures('account:x'))!.failures, 50);
      await store.close();
    });

    it('a token hash names one session', async () => {
      const store = await open();
      await store.create('h', { username: 'priya', expiresAt: 1000 });
      await assert.rejects(store.create('h', { username: 'mallory', expiresAt: 2000 }));
      assert.equal((await store.get('h', 1))!.username, 'priya');
      await store.close();
    });
  });
}
