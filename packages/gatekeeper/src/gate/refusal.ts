/**
 * Why an action is not carried out, as a typed value every surface renders in its own protocol (an HTTP problem,
 * an OpenAI error, an MCP error result, an assistant message in place of a tool call).
 */
import type { Decision } from '../spec/index.js';
import type { GateOutcome } from './gate.js';
import type { PendingApproval } from './hooks.js';

export type RefusalKind =
  /** The policy (or a plug-in such as budgets) denied it. */
  | 'denied'
  /** The gatekeeper could not decide (policy error, ledger failure, ...): fail closed. */
  | 'fault'
  /** The caller is not a configured agent. */
  | 'unauthenticated'
  /** A reviewer must decide; the agent retries with the approval id. */
  | 'approval_pending'
  /** The policy escalated but nothing can approve it (approvals are off on this surface). */
  | 'approval_required'
  /** A rate limit: the agent may retry after `retryAfterSeconds`. */
  | 'rate_limited';

export interface Refusal {
  kind: RefusalKind;
  message: string;
  decision: Decision;
  recordId: string;
  index?: number;
  approval?: PendingApproval;
  retryAfterSeconds?: number;
}

/** Undefined when the action may proceed under `decision` (the final one, after any hold). */
export function refusalOf(outcome: GateOutcome, decision: Decision): Refusal | undefined {
  if (decision.outcome === 'allow') return undefined;
  const base = { decision, recordId: outcome.recordId, ...(outcome.index !== undefined ? { index: outcome.index } : {}) };
  const fault = decision.fault;
  if (fault) return { ...base, kind: fault.code === 'unknown_agent' ? 'unauthenticated' : 'fault', message: fault.message };
  const reason = reasonText(decision);
  if (outcome.retryAfterSeconds !== undefined && decision.outcome === 'deny') {
    return { ...base, kind: 'rate_limited', message: reason, retryAfterSeconds: outcome.retryAfterSeconds };
  }
  if (decision.outcome === 'escalate' && outcome.approval) {
    return { ...base, kind: 'approval_pending', message: `approval required: ${reason}`, approval: outcome.approval };
  }
  if (decision.outcome === 'escalate') return { ...base, kind: 'approval_required', message: `approval required: ${reason}` };
  return { ...base, kind: 'denied', message: reason };
}

export function reasonText(decision: Decision): string {
  return decision.reasons.length > 0 ? decision.reasons.join('; ') : `the policy decided ${decision.outcome}`;
}
