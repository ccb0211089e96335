/**
 * What every surface does around the gate: identify the agent and the request context, and turn the gate's
 * outcome into "go ahead" or a typed HTTP refusal:
 *   allow → proceed; deny → 403 policy_denied; fault → 503 gatekeeper_fault (unknown agent → 401);
 *   escalate → wait on `hold` when approvals hold the request, 202 with the approval id when asynchronous,
 *   403 when nothing can approve it.
 */
import type { IncomingMessage } from 'node:http';
import type { Authenticator } from '../auth/agents.js';
import type { ActionAttempt, GateOutcome } from '../gate.js';
import type { AgentIdentity, Decision, OagfContext } from '../spec/index.js';
import { GateHttpError } from './errors.js';
import { traceFrom, type TraceContext } from './trace.js';

export interface AttemptBase {
  agent: AgentIdentity;
  unauthenticated?: string;
  context: OagfContext;
  approval?: string;
  trace: TraceContext;
}

export async function beginAttempt(req: IncomingMessage, auth: Authenticator): Promise<AttemptBase> {
  const trace = traceFrom(req.headers);
  const session = header(req, 'oagf-session') ?? header(req, 'x-session-id');
  const context: OagfContext = { trace_id: trace.traceId, ...(session ? { session_id: session } : {}) };
  const approval = header(req, 'oagf-approval');
  const who = await auth.authenticate(req.headers);
  const base = { context, trace, ...(approval ? { approval } : {}) };
  if (who.ok) return { ...base, agent: who.agent };
  return { ...base, agent: { id: who.claimed ?? 'unknown', labels: {}, delegation: [] }, unauthenticated: who.reason };
}

export function attemptOf(base: AttemptBase, surface: ActionAttempt['surface'], action: ActionAttempt['action']): ActionAttempt {
  return {
    agent: base.agent,
    action,
    context: base.context,
    surface,
    ...(base.unauthenticated !== undefined ? { unauthenticated: base.unauthenticated } : {}),
    ...(base.approval ? { approval: base.approval } : {}),
  };
}

/** The decision to act on: an escalation that approvals hold open resolves once a reviewer decides. */
export async function finalDecision(outcome: GateOutcome): Promise<Decision> {
  return outcome.hold && outcome.decision.outcome === 'escalate' ? outcome.hold : outcome.decision;
}

/** Undefined when the action may proceed; otherwise the typed refusal for the surface to throw. */
export function refusalOf(outcome: GateOutcome, decision: Decision): GateHttpError | undefined {
  if (decision.outcome === 'allow') return undefined;
  const details = { decision, record_id: outcome.recordId, ...(outcome.index !== undefined ? { index: outcome.index } : {}) };
  const fault = decision.fault;
  if (fault) return new GateHttpError(fault.code === 'unknown_agent' ? 'unauthenticated' : 'gatekeeper_fault', fault.message, details);
  const reason = decision.reasons.join('; ') || `the policy decided ${decision.outcome}`;
  if (decision.outcome === 'escalate' && outcome.approval && !outcome.hold) {
    const retry = outcome.approval.retryAfterSeconds;
    return new GateHttpError(
      'approval_pending',
      `approval required: ${reason}`,
      { ...details, approval_id: outcome.approval.id },
      retry !== undefined ? { 'retry-after': String(retry) } : undefined,
    );
  }
  return new GateHttpError('policy_denied', decision.outcome === 'escalate' ? `approval required: ${reason}` : reason, details);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}
