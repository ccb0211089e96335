/**
 * Decides one tool call proposed by a model before the agent sees it, and turns the decision into what
 * the response should do with the call: release it, replace it with an assistant message, or fail.
 */
import { findAmount } from '../amounts.js';
import type { AmountLocation } from '../config/schema.js';
import { GateHttpError } from '../http/errors.js';
import type { AgentIdentity, Decision, OagfAction, OagfContext } from '../spec/index.js';
import type { Gate, GateOutcome } from '../gate.js';

export interface ProposedToolCall {
  name: string;
  /** Arguments exactly as the model produced them (JSON text for function calls). */
  arguments: string;
  callId?: string;
  /** Free-form tool input (Responses API custom tools) is not JSON; it is passed to policy as text. */
  freeform?: boolean;
}

export type ToolVerdict =
  | { kind: 'release' }
  | { kind: 'replace'; message: string }
  | { kind: 'error'; error: GateHttpError };

export interface ToolCallPolicy {
  /** What a denied tool call becomes: an assistant message stating the reason, or an HTTP/SSE error. */
  onDeny: 'message' | 'error';
}

export interface ToolJudgeScope {
  gate: Gate;
  agent: AgentIdentity;
  context: OagfContext;
  model: string | undefined;
  policy: ToolCallPolicy;
  /** Where amounts live in actions (e.g. a place_order tool's `arguments.total`). */
  amounts: AmountLocation[];
  /** Conversation so far (request plus the response up to the call), for the approval's reasoning trace. */
  trace: () => unknown;
}

export async function judgeToolCall(scope: ToolJudgeScope, call: ProposedToolCall): Promise<ToolVerdict> {
  const parsed = call.freeform ? { ok: true as const, value: call.arguments } : parseArguments(call.arguments);
  const action: OagfAction = {
    kind: 'llm.tool_call',
    target: scope.model === undefined ? { tool: call.name } : { tool: call.name, model: scope.model },
    arguments: parsed.ok ? parsed.value : call.arguments,
  };
  const amount = findAmount(action, scope.amounts);
  if (amount) action.amount = amount;
  const outcome = await scope.gate.decide({
    agent: scope.agent,
    surface: 'openai',
    context: call.callId === undefined ? scope.context : { ...scope.context, tool_call_id: call.callId },
    action,
    trace: scope.trace(),
  });
  const verdict = await verdictOf(scope.policy, call, outcome, parsed.ok);
  if (outcome.reservation) {
    if (verdict.kind === 'release') await outcome.reservation.settle({ delivered: true });
    else await outcome.reservation.release('tool call withheld');
  }
  return verdict;
}

async function verdictOf(policy: ToolCallPolicy, call: ProposedToolCall, outcome: GateOutcome, argumentsValid: boolean): Promise<ToolVerdict> {
  const fault = outcome.fault ?? outcome.decision.fault;
  if (fault) {
    return { kind: 'error', error: new GateHttpError('gatekeeper_fault', `gatekeeper could not decide tool call "${call.name}": ${fault.message}`, { record_id: outcome.recordId }) };
  }
  let decision: Decision = outcome.decision;
  if (decision.outcome === 'escalate') {
    // The approvals plug-in decides hold vs. asynchronous per surface: it attaches `hold` or an `approval` id.
    if (!outcome.hold && outcome.approval) {
      return {
        kind: 'replace',
        message: `The call to tool "${call.name}" needs human approval (approval ${outcome.approval.id} is pending): ${reasonText(decision)} (gatekeeper decision ${outcome.recordId})`,
      };
    }
    try {
      // Nothing can approve it (no approvals configured): it is withheld like a denial.
      if (outcome.hold) decision = await outcome.hold;
    } catch (err) {
      return { kind: 'error', error: new GateHttpError('gatekeeper_fault', `approval of tool call "${call.name}" failed: ${(err as Error).message}`) };
    }
  }
  if (decision.outcome === 'allow' && argumentsValid) return { kind: 'release' };
  // Fail closed: arguments no policy could read are never passed on, whatever the outcome.
  const reason = decision.outcome === 'allow' ? 'its arguments are not valid JSON' : reasonText(decision);
  const message = `The gatekeeper withheld the call to tool "${call.name}": ${reason} (gatekeeper decision ${outcome.recordId})`;
  if (policy.onDeny === 'error') {
    return { kind: 'error', error: new GateHttpError('policy_denied', message, { record_id: outcome.recordId, tool: call.name }) };
  }
  return { kind: 'replace', message };
}

function reasonText(decision: Decision): string {
  return decision.reasons.length > 0 ? decision.reasons.join('; ') : `policy outcome ${decision.outcome}`;
}

function parseArguments(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: text === '' ? {} : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
