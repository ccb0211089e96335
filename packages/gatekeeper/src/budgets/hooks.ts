/**
 * How budgets plug into the gate: `enrichInput` shows policy the budget state (`input.budgets`)
 * before it decides; `afterDecision` takes the escrow for an allowed action and turns the allow
 * into a deny when it does not fit. Escalations reserve nothing until approved: a held one reserves
 * when its reviewer approves, an asynchronous one when the agent retries with the approval (then an allow).
 */
import type { ActionAttempt, GateHooks, GateOutcome, PendingRecord } from '../gate.js';
import type { Decision } from '../spec/index.js';
import type { Budgets } from './engine.js';
import { formatMicros } from './money.js';

export function budgetHooks(budgets: Budgets): GateHooks {
  return {
    async enrichInput(input, attempt) {
      const view = await budgets.view(input, promptOf(attempt));
      if (Object.keys(view).length > 0) input.budgets = view;
    },

    async afterDecision(outcome: GateOutcome, attempt: ActionAttempt, record: PendingRecord) {
      if (outcome.decision.outcome === 'escalate' && outcome.hold) {
        // A held escalation is carried out only if a reviewer approves: reserve then, before the surface goes on.
        outcome.hold = outcome.hold.then((decision) => reserveOnApproval(budgets, outcome, attempt, decision));
        return;
      }
      if (outcome.decision.outcome !== 'allow') return;
      const result = await budgets.reserve(outcome.input, promptOf(attempt));
      if (!result.ok) {
        outcome.decision = budgetDenial(outcome.decision, result.reason);
        record.data.budget = { refused: result.reason };
        return;
      }
      if (!result.reservation) return;
      outcome.reservation = result.reservation;
      const held = Object.fromEntries(Object.entries(result.reservation.held).map(([m, v]) => [m, formatMicros(v)]));
      record.data.budget = { reservation: result.reservation.id, held };
    },
  };
}

async function reserveOnApproval(budgets: Budgets, outcome: GateOutcome, attempt: ActionAttempt, decision: Decision): Promise<Decision> {
  if (decision.outcome !== 'allow') return decision;
  try {
    const result = await budgets.reserve(outcome.input, promptOf(attempt));
    if (!result.ok) return budgetDenial(decision, result.reason);
    if (result.reservation) outcome.reservation = result.reservation;
    return decision;
  } catch (err) {
    // Fail closed: an approval does not carry an action past a budget store that cannot answer.
    return budgetDenial(decision, `budget store failure: ${(err as Error).message ?? err}`);
  }
}

/**
 * The prompt text to estimate from. The action document carries only a digest of the
 * conversation, so the estimate reads the transcript the surface hands the gate as `trace`.
 */
function promptOf(attempt: ActionAttempt): Record<string, unknown> | undefined {
  if (attempt.action.kind !== 'llm.request' || attempt.trace === undefined) return undefined;
  return { messages: attempt.trace };
}

function budgetDenial(decision: Decision, reason: string): Decision {
  const { approvers: _approvers, ...rest } = decision;
  return {
    ...rest,
    outcome: 'deny',
    reasons: [reason],
    obligations: [],
    explanation: [...decision.explanation, { rule: 'gatekeeper.budgets' }],
  };
}
