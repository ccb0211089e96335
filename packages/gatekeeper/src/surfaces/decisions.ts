/**
 * Decision API for SDKs and frameworks that check before acting:
 *   POST /v1/decisions        { action, context?, trace? }             → { decision, record_id, index, action_digest }
 *   POST /v1/decisions/batch  { items: [{ action, context?, trace? }] } → { results: [...] } (same order)
 * Policy outcomes (allow, deny, escalate) are 200: the caller asked for a decision and got one. Faults are 503 and
 * an unknown agent 401, with the deny decision in the body. Since the caller acts on its own, a budget escrow
 * taken for an allowed action is settled at once for the reserved amount.
 */
import { z } from 'zod';
import { findAmount } from '../amounts.js';
import type { GateOutcome } from '../gate.js';
import { attemptOf, beginAttempt, refusalOf, type AttemptBase } from '../http/attempt.js';
import { readJson, sendJson, type Router } from '../http/router.js';
import { Action, Context } from '../spec/index.js';
import type { SurfaceDeps } from '../surface.js';

const DecisionRequest = z.strictObject({
  action: Action,
  context: Context.omit({ surface: true }).optional(),
  /** Conversation that led to the action, kept by the approvals plug-in as the reasoning trace. */
  trace: z.unknown().optional(),
});

const BatchRequest = z.strictObject({ items: z.array(DecisionRequest).min(1).max(100) });

export function registerDecisionRoutes(router: Router, deps: SurfaceDeps): void {
  const decideOne = async (base: AttemptBase, item: z.output<typeof DecisionRequest>) => {
    const action = item.action.amount ? item.action : withAmount(item.action, deps);
    const attempt = {
      ...attemptOf(base, 'decision', action),
      context: { ...item.context, ...base.context },
      ...(item.trace !== undefined ? { trace: item.trace } : {}),
    };
    const outcome = await deps.gate.decide(attempt);
    await outcome.reservation?.settle({});
    return outcome;
  };

  router.add('POST', '/v1/decisions', async (req, res) => {
    const body = await readJson(req, DecisionRequest);
    const outcome = await decideOne(await beginAttempt(req, deps.auth), body);
    const refusal = outcome.fault ? refusalOf(outcome, outcome.decision) : undefined;
    sendJson(res, refusal?.status ?? 200, view(outcome));
  });

  router.add('POST', '/v1/decisions/batch', async (req, res) => {
    const body = await readJson(req, BatchRequest);
    const base = await beginAttempt(req, deps.auth);
    const outcomes = await Promise.all(body.items.map((item) => decideOne(base, item)));
    sendJson(res, 200, { results: outcomes.map(view) });
  });
}

function withAmount(action: z.output<typeof Action>, deps: SurfaceDeps) {
  const amount = findAmount(action, deps.config.amounts);
  return amount ? { ...action, amount } : action;
}

function view(outcome: GateOutcome) {
  return {
    decision: outcome.decision,
    record_id: outcome.recordId,
    ...(outcome.index !== undefined ? { index: outcome.index } : {}),
    action_digest: outcome.actionDigest,
    ...(outcome.approval ? { approval: outcome.approval } : {}),
  };
}
