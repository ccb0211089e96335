/**
 * How approvals plug into the gate. For every decision the session trace is extended. An escalation either
 * redeems the approval the agent retries with (`OAGF-Approval: <id>`), or opens a new one: the trace is
 * committed as payload of the escalation record, and the agent is held (`outcome.hold`) or told to retry
 * (`outcome.approval` → HTTP 202), as configured for its surface.
 */
import type { ActionAttempt, GateHooks, GateOutcome, PendingRecord } from '../gate.js';
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

interface Opening {
  id: string;
  trace?: ReasoningTrace;
  settle?: (d: Decision) => void;
}

export function approvalHooks(o: ApprovalHookOptions): GateHooks {
  const opening = new WeakMap<GateOutcome, Opening>();

  return {
    afterDecision(outcome: GateOutcome, attempt: ActionAttempt, record: PendingRecord) {
      o.traces.observe(outcome.input, outcome.decision.outcome, attempt.trace);
      if (outcome.decision.outcome !== 'escalate') return;
      if (attempt.approval) return redeem(outcome, attempt.approval, record);

      const id = o.service.newId();
      const trace = o.traces.snapshot(outcome.input);
      const mode = o.modes[attempt.surface] ?? 'hold';
      if (trace) record.payloads.trace = trace;
      record.data.approval = { id, mode };
      const entry: Opening = { id, ...(trace ? { trace } : {}) };
      if (mode === 'hold') outcome.hold = new Promise<Decision>((resolve) => (entry.settle = resolve));
      else outcome.approval = { id, retryAfterSeconds: o.retryAfterSeconds };
      opening.set(outcome, entry);
    },

    afterCommit(outcome: GateOutcome) {
      const entry = opening.get(outcome);
      if (!entry) return;
      opening.delete(outcome);
      let approval: Approval;
      try {
        approval = o.service.open({
          id: entry.id,
          input: outcome.input,
          decision: outcome.decision,
          actionDigest: outcome.actionDigest,
          escalation: { id: outcome.recordId, ...(outcome.index !== undefined ? { index: outcome.index } : {}) },
          ...(entry.trace ? { trace: entry.trace } : {}),
        });
      } catch (err) {
        entry.settle?.(denied(outcome.decision, `the approval request could not be opened: ${(err as Error).message}`));
        throw err;
      }
      o.onOpened?.(approval);
      if (entry.settle) void hold(outcome, approval.id).then(entry.settle);
    },
  };

  /** Waits for the verdict on a held request; an approval is claimed here, so it cannot be used again. */
  async function hold(outcome: GateOutcome, id: string): Promise<Decision> {
    try {
      const a = await o.service.wait(id, o.holdTimeoutMs);
      if (a.status === 'pending') {
        return denied(outcome.decision, `approval ${id} is still pending after ${Math.round(o.holdTimeoutMs / 1000)} s; retry with header OAGF-Approval: ${id} once it is approved`);
      }
      if (a.status !== 'approved') return denied(outcome.decision, verdictReason(a));
      await o.service.redeem(id, outcome.actionDigest, outcome.input.agent.id);
      return { ...outcome.decision, outcome: 'allow', reasons: [...outcome.decision.reasons, verdictReason(a)] };
    } catch (err) {
      return denied(outcome.decision, (err as Error).message);
    }
  }

  async function redeem(outcome: GateOutcome, id: string, record: PendingRecord): Promise<void> {
    try {
      const a = await o.service.redeem(id, outcome.actionDigest, outcome.input.agent.id);
      outcome.decision = { ...outcome.decision, outcome: 'allow', reasons: [...outcome.decision.reasons, verdictReason(a)] };
      if (a.final) record.links.push({ rel: 'approval', ...a.final });
      record.data.approval = { id, used: true };
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      if (err.code === 'pending') {
        outcome.approval = { id, retryAfterSeconds: o.retryAfterSeconds };
        record.data.approval = { id, mode: 'async', retried: true };
        return;
      }
      outcome.decision = denied(outcome.decision, err.message);
      record.data.approval = { id, refused: err.code };
    }
  }
}

function denied(decision: Decision, reason: string): Decision {
  return { ...decision, outcome: 'deny', reasons: [...decision.reasons, reason] };
}

function verdictReason(a: Approval): string {
  const who = a.votes.map((v) => `${v.reviewer}${v.comment ? ` ("${v.comment}")` : ''}`).join(', ');
  if (a.status === 'approved') return `approved by ${who} (approval ${a.id})`;
  if (a.status === 'rejected') return `rejected by ${who} (approval ${a.id})`;
  return `approval ${a.id} expired at ${a.expiresAt} without a decision`;
}
