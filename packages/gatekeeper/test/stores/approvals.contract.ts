/**
 * The contract every ApprovalStore driver must pass: each state change is one conditional step, so a pending
 * approval is finalized once, an approved one consumed once, and a reviewer votes once — however callers race.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Approval } from '../../src/approvals/types.js';
import type { ApprovalStore } from '../../src/stores/approvals.js';

export function approval(id: string, over: Partial<Approval> = {}): Approval {
  return {
    id,
    status: 'pending',
    actionDigest: `sha256:${'a'.repeat(64)}`,
    policyDigest: 'sha256:policy',
    agentId: 'buyer',
    agentOwner: 'dana@acme.example',
    sessionId: 's-1',
    surface: 'api',
    summary: 'POST erp/orders · $2,400,000.00',
    amount: { value: 2_400_000, currency: 'USD' },
    input: { agent: { id: 'buyer' } },
    decision: { outcome: 'escalate', reasons: ['over the limit'] },
    required: { min: 1, groups: ['procurement-leads'], users: [] },
    escalation: { id: `${id}.rec`, index: 7 },
    createdAt: '2026-12-01T10:00:00.000Z',
    expiresAt: '2026-12-01T10:15:00.000Z',
    votes: [],
    ...over,
  };
}

const vote = (reviewer: string, verdict: 'approve' | 'reject' = 'approve') => ({ reviewer, verdict, comment: `${reviewer} says so`, time: '2026-12-01T10:01:00.000Z' });

export function approvalStoreContract(driver: string, open: () => Promise<ApprovalStore>): void {
  describe(`ApprovalStore contract: ${driver}`, () => {
    it('stores and reads back an approval exactly', async () => {
      const store = await open();
      const a = approval('apr_1');
      await store.insert(a);
      assert.deepEqual(await store.get('apr_1'), a);
      assert.equal(await store.get('apr_missing'), undefined);
      await store.close();
    });

    it('lists by status and free text (id, agent, owner, summary, digest, reviewer, comment), newest first', async () => {
      const store = await open();
      await store.insert(approval('apr_a', { createdAt: '2026-12-01T10:00:00.000Z' }));
      await store.insert(approval('apr_b', { createdAt: '2026-12-01T11:00:00.000Z', agentId: 'planner', summary: 'GET erp/inventory' }));
      await store.insert(approval('apr_c', { createdAt: '2026-12-01T12:00:00.000Z', status: 'expired' }));
      assert.deepEqual((await store.list()).map((a) => a.id), ['apr_c', 'apr_b', 'apr_a']);
      assert.deepEqual((await store.list({ status: ['pending'] })).map((a) => a.id), ['apr_b', 'apr_a']);
      assert.deepEqual((await store.list({ text: 'planner' })).map((a) => a.id), ['apr_b']);
      assert.deepEqual((await store.list({ text: '100%_' })).map((a) => a.id), [], 'LIKE wildcards in the text are literal');
      await store.addVote('apr_a', vote('priya'));
      assert.deepEqual((await store.list({ text: 'priya says' })).map((a) => a.id), ['apr_a']);
      assert.deepEqual((await store.list({ limit: 1 })).map((a) => a.id), ['apr_c']);
      assert.equal(await store.count('pending'), 2);
      await store.close();
    });

    it('a reviewer votes once; votes come back in time order', async () => {
      const store = await open();
      await store.insert(approval('apr_v'));
      assert.equal(await store.addVote('apr_v', vote('priya')), true);
      assert.equal(await store.addVote('apr_v', vote('priya', 'reject')), false);
      assert.equal(await store.addVote('apr_v', { ...vote('omar'), time: '2026-12-01T10:02:00.000Z' }), true);
      assert.deepEqual((await store.get('apr_v'))!.votes.map((v) => `${v.reviewer}:${v.verdict}`), ['priya:approve', 'omar:approve']);
      await store.close();
    });

    it('finalize happens once, even when racing; consume only an approved approval, once', async () => {
      const store = await open();
      await store.insert(approval('apr_f'));
      assert.equal(await store.consume('apr_f', '2026-12-01T10:03:00.000Z'), false, 'a pending approval cannot be used');
      const raced = await Promise.all([
        store.finalize('apr_f', 'approved', '2026-12-01T10:02:00.000Z', { id: 'apr_f.approved', index: 9 }),
        store.finalize('apr_f', 'rejected', '2026-12-01T10:02:00.000Z', { id: 'apr_f.rejected', index: 10 }),
      ]);
      assert.deepEqual(raced.filter(Boolean).length, 1);
      const final = (await store.get('apr_f'))!;
      assert.ok(final.status === 'approved' || final.status === 'rejected');
      assert.deepEqual(final.final, final.status === 'approved' ? { id: 'apr_f.approved', index: 9 } : { id: 'apr_f.rejected', index: 10 });

      await store.insert(approval('apr_g'));
      await store.finalize('apr_g', 'rejected', '2026-12-01T10:02:00.000Z', { id: 'apr_g.rejected' });
      assert.equal(await store.consume('apr_g', '2026-12-01T10:04:00.000Z'), false, 'a rejected approval cannot be used');
      await store.insert(approval('apr_h'));
      await store.finalize('apr_h', 'approved', '2026-12-01T10:02:00.000Z', { id: 'apr_h.approved', index: 11 });
      const used = await Promise.all([store.consume('apr_h', '2026-12-01T10:04:00.000Z'), store.consume('apr_h', '2026-12-01T10:04:01.000Z')]);
      assert.deepEqual(used.filter(Boolean).length, 1, 'single use');
      assert.match((await store.get('apr_h'))!.consumedAt!, /^2026-12-01T10:04:0[01]\.000Z$/);
      await store.close();
    });

    it('due lists pending approvals at or past their expiry', async () => {
      const store = await open();
      await store.insert(approval('apr_old', { expiresAt: '2026-12-01T10:00:00.000Z' }));
      await store.insert(approval('apr_new', { expiresAt: '2026-12-01T11:00:00.000Z' }));
      await store.insert(approval('apr_done', { expiresAt: '2026-12-01T09:00:00.000Z', status: 'approved' }));
      assert.deepEqual((await store.due('2026-12-01T10:00:00.000Z')).map((a) => a.id), ['apr_old']);
      await store.close();
    });

    it('notice deliveries are saved per channel and updated in place', async () => {
      const store = await open();
      await store.insert(approval('apr_n'));
      await store.saveNotice({ approvalId: 'apr_n', channel: 'teams#1', status: 'pending', attempts: 1, lastError: 'HTTP 503', updatedAt: '2026-12-01T10:00:01.000Z' });
      await store.saveNotice({ approvalId: 'apr_n', channel: 'teams#1', status: 'delivered', attempts: 2, updatedAt: '2026-12-01T10:00:03.000Z' });
      await store.saveNotice({ approvalId: 'apr_n', channel: 'slack#1', status: 'failed', attempts: 5, lastError: 'timeout', updatedAt: '2026-12-01T10:00:09.000Z' });
      assert.deepEqual(await store.notices('apr_n'), [
        { approvalId: 'apr_n', channel: 'slack#1', status: 'failed', attempts: 5, lastError: 'timeout', updatedAt: '2026-12-01T10:00:09.000Z' },
        { approvalId: 'apr_n', channel: 'teams#1', status: 'delivered', attempts: 2, updatedAt: '2026-12-01T10:00:03.000Z' },
      ]);
      await store.close();
    });
  });
}
