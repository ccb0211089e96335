/**
 * Decision API for SDKs and frameworks that check before acting:
 *   POST /v1/decisions        { action, context?, trace? }             → { decision, record_id, index, action_digest }
 *   POST /v1/decisions/batch  { items: [{ action, context?, trace? }] } → { results: [...] } (same order)
 * Policy outcomes (allow, deny, escalate) are 200: the caller asked for a decision and got one. Faults are 503 and
 * an unknown agent 401, with the deny decision in the body. The caller acts on its own, so the lifecycle runs
 * without an execution: an allowed action's escrow is settled at once for what was reserved.
 */
import { z } from 'zod';
import type { RunResult } from '../../gate/index.js';
import { attemptOf, beginAttempt, type AttemptBase } from '../../http/attempt.js';
import { refusalError } from '../../http/errors.js';
import { readJson, sendJson, type Router } from '../../http/router.js';
import { Action, Context } from '../../spec/index.js';
import type { SurfaceDeps } from '../../surface.js';

const DecisionRequest = z.strictObject({
  action: Action,
  context: Context.omit({ surface: true }).optional(),
  /** Conversation that led to the action, kept by the approvals plug-in as the reasoning trace. */
  trace: z.unknown().optional(),
});

const BatchRequest = z.strictObject({ items: z.array(DecisionRequest).min(1).max(100) });

export function registerDecisionRoutes(router: Router, deps: SurfaceDeps): void {
  const decideOne = (base: AttemptBase, item: z.output<typeof DecisionRequest>) =>
    deps.gate.run(attemptOf(base, 'decision', item.action, { context: { ...item.context, ...base.context }, trace: item.trace }));

  router.add('POST', '/v1/decisions', async (req, res) => {
    const body = await readJson(req, DecisionRequest, deps.limits, deps.bodyLimit);
    const result = await decideOne(await beginAttempt(req, deps.auth), body);
    const failed = !result.ok && (result.refusal.kind === 'fault' || result.refusal.kind === 'unauthenticated');
    sendJson(res, failed ? refusalError(result.refusal).status : 200, view(result));
  });

  router.add('POST', '/v1/decisions/batch', async (req, res) => {
    const body = await readJson(req, BatchRequest, deps.limits, deps.bodyLimit);
    const base = await beginAttempt(req, deps.auth);
    const results = await Promise.all(body.items.map((item) => decideOne(base, item)));
    sendJson(res, 200, { results: results.map(view) });
  });
}

function view(result: RunResult<undefined>) {
  const { outcome, decision } = result;
  return {
    decision,
    record_id: outcome.recordId,
    ...(outcome.index !== undefined ? { index: outcome.index } : {}),
    action_digest: outcome.actionDigest,
    ...(outcome.approval ? { approval: outcome.approval } : {}),
  };
}
