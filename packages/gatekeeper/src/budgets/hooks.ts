/**
 * How budgets plug into the gate: `enrich` shows policy the budget state (`input.budgets`) before it decides;
 * `admit` takes the escrow for an allowed action, or refuses it when it does not fit. An escalation reserves
 * nothing until approved: the lifecycle admits a held one when its reviewer approves, an asynchronous one when
 * the agent retries with the approval (then it is an allow).
 */
import type { ActionAttempt, Admission, GateHooks } from '../gate/index.js';
import type { Budgets } from './engine.js';
import { formatMicros } from './money.js';

export function budgetHooks(budgets: Budgets): GateHooks {
  return {
    async enrich(input, attempt) {
      const view = await budgets.view(input, promptOf(attempt));
      return Object.keys(view).length > 0 ? { budgets: view } : undefined;
    },

    async admit(view): Promise<Admission | undefined> {
      const result = await budgets.reserve(view.input, promptOf(view.attempt));
      if (!result.ok) {
        const rate = result.retryAfterSeconds !== undefined;
        return {
          kind: 'refused',
          reason: result.reason,
          rule: rate ? 'gatekeeper.rate_limits' : 'gatekeeper.budgets',
          ...(rate ? { retryAfterSeconds: result.retryAfterSeconds } : {}),
          record: { data: { budget: { refused: result.reason, ...(rate ? { retry_after_s: result.retryAfterSeconds } : {}) } } },
        };
      }
      if (!result.reservation) return undefined;
      const { id, held } = result.reservation;
      const shown = Object.fromEntries(Object.entries(held).map(([meter, micros]) => [meter, formatMicros(micros)]));
      return { kind: 'admitted', reservation: result.reservation, record: { data: { budget: { reservation: id, held: shown } } } };
    },
  };
}

/**
 * The prompt text to estimate from. The action document carries only a digest of the
 * conversation, so the estimate reads the transcript the surface hands the gate as `trace`.
 */
function promptOf(attempt: ActionAttempt): Record<string, unknown> | undefined {
  if (attempt.action.kind !== 'llm.request' || attempt.trace === undefined) return undefined;
  return { messages: attempt.trace };
}
