/**
 * A decision as an OPA decision-log event (https://www.openpolicyagent.org/docs/management-decision-logs), so the
 * tools that already read OPA's logs read the gatekeeper's. `path` is the entrypoint, `bundles` the policy digest,
 * `input` and `result` are redacted like everything else the gatekeeper keeps; `custom` links to the ledger.
 */
import type { CommittedView } from '../gate/index.js';

export interface DecisionLogEvent {
  labels: Record<string, string>;
  decision_id: string;
  path: string;
  input: unknown;
  result: unknown;
  requested_by: string;
  timestamp: string;
  bundles: Record<string, { revision: string }>;
  metrics?: Record<string, number>;
  custom: { ledger_index: number; surface?: string; action_digest: string };
}

export function eventOf(view: CommittedView, labels: Record<string, string>): DecisionLogEvent {
  const { decision } = view;
  return {
    labels,
    decision_id: view.recordId,
    path: 'oagf/decision',
    input: view.input,
    result: {
      outcome: decision.outcome,
      reasons: decision.reasons,
      obligations: decision.obligations,
      ...(decision.approvers ? { approvers: decision.approvers } : {}),
      ...(decision.fault ? { fault: decision.fault } : {}),
    },
    requested_by: view.input.agent.id,
    timestamp: view.input.time.now,
    bundles: { oagf: { revision: decision.policy_digest } },
    custom: { ledger_index: view.index, ...(view.input.context.surface ? { surface: view.input.context.surface } : {}), action_digest: view.actionDigest },
  };
}
