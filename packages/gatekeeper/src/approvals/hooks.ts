/**
 * How approvals plug into the gate. Every decision extends the session trace (`observe`). An escalation either
 * redeems the approval the agent retries with (`OAGF-Approval: <id>`), or opens a new one: the trace is committed
 * as payload of the escalation record, and the agent is held (the lifecycle waits on `verdict`) or told to retry
 * (HTTP 202), as configured for its surface.
 */
import type { CommittedView, DecisionView, EscalationResult, GateHooks } from '../gate/index.js';
import { deniedWith } from '../gate/evaluate.js';
import type { Decision } from '../spec/index.js';
import type { ApprovalMode } from './config.js';
import type { ApprovalService } from './service.js';
import type { ReasoningTrace, TraceRecorder } from './trace.js';
import { ApprovalError, type Approval } from './types.js';

export interface ApprovalHookOptions {
  service: ApprovalService;
  traces: TraceRecorder;
  modes: Record<string, ApprovalMode>;
  holdTimeoutMs: number;
  retryAfterSeconds: number;
  /** Called once an approval is open (notices); must not throw. */
  onOpened?: (approval: Approval) => void;
}

export function approvalHooks(o: ApprovalHookOptions): GateHooks {
  return {
    observe(view: DecisionView) {
      o.traces.observe(view.input, view.decision.outcome, view.attempt.trace);
    },

    async escalate(view: DecisionView): Promise<EscalationResult> {
      if (view.attempt.approval) return redeem(view, view.attempt.approval);
      const id = o.service.newId();
      const trace = o.traces.snapshot(view.input);
      const mode = o.modes[view.attempt.surface] ?? 'hold';
      const record = { data: { approval: { id, mode } }, ...(trace ? { payloads: { trace } } : {}) };
      const approval = { id, retryAfterSeconds: o.retryAfterSeconds };
      if (mode === 'async') return { kind: 'pending', mode, approval, record };
      return { kind: 'pending', mode, approval, record, verdict: () => hold(view, id) };
    },

    async committed(view: CommittedView) {
      // A retry with an approval that is still pending opens nothing new.
      if (!view.pending || view.attempt.approval) return;
      const trace = view.payloads.trace as ReasoningTrace | undefined;
      const approval = await o.service.open({
        id: view.pending.id,
        input: view.input,
        decision: view.decision,
        actionDigest: view.actionDigest,
        escalation: { id: view.recordId, index: view.index },
        ...(trace ? { trace } : {}),
      });
      o.onOpened?.(approval);
    },
  };

  /** Waits for the verdict on a held request; an approval is claimed here, so it cannot be used again. */
  async function hold(view: DecisionView, id: string): Promise<Decision> {
    try {
      const a = await o.service.wait(id, o.holdTimeoutMs);
      if (a.status === 'pending') {
        return deniedWith(view.decision, `approval ${id} is still pending after ${Math.round(o.holdTimeoutMs / 1000)} s; retry with header OAGF-Approval: ${id} once it is approved`);
      }
      if (a.status !== 'approved') return deniedWith(view.decision, verdictReason(a));
      await o.service.redeem(id, view.actionDigest, view.input.agent.id);
      return { ...view.decision, outcome: 'allow', reasons: [...view.decision.reasons, verdictReason(a)] };
    } catch (err) {
      return deniedWith(view.decision, (err as Error).message);
    }
  }

  async function redeem(view: DecisionView, id: string): Promise<EscalationResult> {
    try {
      const a = await o.service.redeem(id, view.actionDigest, view.input.agent.id);
      return {
        kind: 'redeemed',
        decision: { ...view.decision, outcome: 'allow', reasons: [...view.decision.reasons, verdictReason(a)] },
        record: { data: { approval: { id, used: true } }, ...(a.final ? { links: [{ rel: 'approval', ...a.final }] } : {}) },
      };
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      if (err.code === 'pending') {
        return { kind: 'pending', mode: 'async', approval: { id, retryAfterSeconds: o.retryAfterSeconds }, record: { data: { approval: { id, mode: 'async', retried: true } } } };
      }
      return { kind: 'refused', decision: deniedWith(view.decision, err.message), record: { data: { approval: { id, refused: err.code } } } };
    }
  }
}

function verdictReason(a: Approval): string {
  const who = a.votes.map((v) => `${v.reviewer}${v.comment ? ` ("${v.comment}")` : ''}`).join(', ');
  if (a.status === 'approved') return `approved by ${who} (approval ${a.id})`;
  if (a.status === 'rejected') return `rejected by ${who} (approval ${a.id})`;
  return `approval ${a.id} expired at ${a.expiresAt} without a decision`;
}
