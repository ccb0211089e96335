/**
 * `GET /v1/approvals/<id>`: an agent asks how the approval it waits for stands, without sending its action again
 * (every resend is a new decision and a new ledger entry). Only the agent that requested the approval may see it.
 * Once it is approved the agent retries its action once with `OAGF-Approval: <id>`.
 */
import type { Authenticator } from '../auth/agents.js';
import { GateHttpError } from '../http/errors.js';
import { sendJson, type Router } from '../http/router.js';
import type { ApprovalService } from './service.js';

export function registerAgentApprovalRoutes(router: Router, auth: Authenticator, service: ApprovalService, retryAfterSeconds: number): void {
  router.add('GET', '/v1/approvals/:id', async (req, res, ctx) => {
    const who = await auth.authenticate(req.headers);
    if (!who.ok) throw new GateHttpError('unauthenticated', who.reason);
    const approval = await service.get(ctx.params.id!);
    // Another agent's approval is "not found", not "forbidden": its existence is not the asker's business.
    if (!approval || approval.agentId !== who.agent.id) throw new GateHttpError('not_found', `no approval ${ctx.params.id} for agent ${who.agent.id}`);
    const pending = approval.status === 'pending';
    sendJson(
      res,
      200,
      {
        id: approval.id,
        status: approval.status,
        summary: approval.summary,
        expires_at: approval.expiresAt,
        ...(approval.decidedAt ? { decided_at: approval.decidedAt } : {}),
        ...(approval.consumedAt ? { used_at: approval.consumedAt } : {}),
        votes: approval.votes.map((v) => ({ reviewer: v.reviewer, verdict: v.verdict, comment: v.comment })),
        next: pending ? 'wait' : approval.status === 'approved' && !approval.consumedAt ? 'retry with OAGF-Approval' : 'none',
      },
      pending ? { 'retry-after': String(retryAfterSeconds), 'cache-control': 'no-store' } : { 'cache-control': 'no-store' },
    );
  });
}
