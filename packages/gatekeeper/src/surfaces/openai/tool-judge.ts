/**
 * Runs one tool call a model proposed through the gate's lifecycle before the agent sees it. Carrying it out
 * means releasing it to the agent; a refusal becomes what the response does instead: an assistant message
 * stating the reason in place of the call, or an error.
 */
import type { Refusal } from '../../gate/index.js';
import { attemptOf, type AttemptBase } from '../../http/attempt.js';
import { GateHttpError } from '../../http/errors.js';
import { parseStrictJson, StrictJsonError, type JsonLimits } from '../../json/strict.js';
import type { Gate } from '../../gate/index.js';
import type { OagfAction, OagfContext } from '../../spec/index.js';

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
  base: AttemptBase;
  context: OagfContext;
  model: string | undefined;
  policy: ToolCallPolicy;
  limits: JsonLimits;
  /** Conversation so far (request plus the response up to the call), for the approval's reasoning trace. */
  trace: () => unknown;
}

export async function judgeToolCall(scope: ToolJudgeScope, call: ProposedToolCall): Promise<ToolVerdict> {
  const parsed = call.freeform ? { ok: true as const, value: call.arguments } : parseArguments(call.arguments, scope.limits);
  const action: OagfAction = {
    kind: 'llm.tool_call',
    target: scope.model === undefined ? { tool: call.name } : { tool: call.name, model: scope.model },
    arguments: parsed.ok ? parsed.value : call.arguments,
  };
  const context = call.callId === undefined ? scope.context : { ...scope.context, tool_call_id: call.callId };
  // The agent's OAGF-Approval rides along: an approval granted for this exact call (its digest) is redeemed here.
  const attempt = attemptOf(scope.base, 'openai', action, { context, trace: scope.trace() });
  const result = await scope.gate.run(attempt, async (judged) => {
    // Fail closed: arguments no policy could read unambiguously are never passed on, whatever the outcome.
    if (parsed.ok) return { value: { kind: 'release' as const }, settlement: { settle: { delivered: true } }, record: false };
    return { value: withheld(scope.policy, call, judged.recordId, parsed.problem), settlement: { release: 'tool call withheld' }, record: false };
  });
  return result.ok ? result.value : refused(scope.policy, call, result.refusal);
}

function refused(policy: ToolCallPolicy, call: ProposedToolCall, r: Refusal): ToolVerdict {
  if (r.kind === 'fault' || r.kind === 'unauthenticated') {
    return { kind: 'error', error: new GateHttpError('gatekeeper_fault', `gatekeeper could not decide tool call "${call.name}": ${r.message}`, { record_id: r.recordId }) };
  }
  if (r.kind === 'approval_pending') {
    return {
      kind: 'replace',
      message: `The call to tool "${call.name}" needs human approval (approval ${r.approval!.id} is pending): ${r.decision.reasons.join('; ') || 'escalated by policy'} (gatekeeper decision ${r.recordId})`,
    };
  }
  return withheld(policy, call, r.recordId, r.decision.reasons.join('; ') || `policy outcome ${r.decision.outcome}`);
}

function withheld(policy: ToolCallPolicy, call: ProposedToolCall, recordId: string, reason: string): ToolVerdict {
  const message = `The gatekeeper withheld the call to tool "${call.name}": ${reason} (gatekeeper decision ${recordId})`;
  if (policy.onDeny === 'error') return { kind: 'error', error: new GateHttpError('policy_denied', message, { record_id: recordId, tool: call.name }) };
  return { kind: 'replace', message };
}

function parseArguments(text: string, limits: JsonLimits): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (text === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: parseStrictJson(text, limits, 'arguments') };
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    return { ok: false, problem: err.problem.kind === 'syntax' ? 'its arguments are not valid JSON' : `its arguments cannot be read one way only: ${err.message}` };
  }
}
