/**
 * Runs one tool call a model proposed through the gate's lifecycle before the agent sees it. Carrying it out
 * means releasing it to the agent; a refusal becomes what the response does instead: an assistant message
 * stating the reason in place of the call, or an error.
 */
import type { Gate, Refusal, Surface } from '../gate/index.js';
import { attemptOf, type AttemptBase } from '../http/attempt.js';
import { GateHttpError } from '../http/errors.js';
import { parseStrictJson, StrictJsonError, type JsonLimits } from '../json/strict.js';
import type { OagfAction, OagfContext } from '../spec/index.js';

/** Output the gatekeeper does not know: withheld whatever the policy says, or decided like any other action. */
export type UnknownItems = 'withhold' | 'decide';

/** One action a model's output proposes (each surface reads them from its protocol's responses). */
export interface ProposedToolCall {
  /** The tool: a function or custom tool's name, a built-in tool (`shell`, `computer`, ...), an unknown item's type. */
  name: string;
  /** Arguments exactly as the model produced them (JSON text for function calls). */
  arguments: string;
  callId?: string;
  /** Free-form tool input (Responses API custom tools) is not JSON; it is passed to policy as text. */
  freeform?: boolean;
  /** OAGF action kind; `llm.tool_call` when absent. */
  kind?: string;
  /** The action's target (the model is added); `{tool: name}` when absent. */
  target?: Record<string, string>;
  /** Arguments the gatekeeper read from the item itself (items whose input is not JSON text), instead of `arguments`. */
  value?: unknown;
  /** How messages name it, e.g. `the shell command`; `the call to tool "<name>"` when absent. */
  what?: string;
  /** Never released, whatever the outcome, for this reason (an unknown item under `llm.unknown_items: withhold`). */
  withhold?: string;
}

export type ToolVerdict =
  | { kind: 'release' }
  | { kind: 'replace'; message: string }
  | { kind: 'error'; error: GateHttpError };

export interface ToolCallPolicy {
  /** What a denied tool call becomes: an assistant message stating the reason, or an HTTP/SSE error. */
  onDeny: 'message' | 'error';
  /** Output items and tool-call types the gatekeeper does not know: withheld whatever the policy says (default), or released on an allow. */
  unknownItems?: UnknownItems;
}

export interface ToolJudgeScope {
  gate: Gate;
  surface: Surface;
  base: AttemptBase;
  context: OagfContext;
  model: string | undefined;
  policy: ToolCallPolicy;
  limits: JsonLimits;
  /** Conversation so far (request plus the response up to the call), for the approval's reasoning trace. */
  trace: () => unknown;
}

export async function judgeToolCall(scope: ToolJudgeScope, call: ProposedToolCall): Promise<ToolVerdict> {
  const parsed = argumentsOf(call, scope.limits);
  const target = call.target ?? { tool: call.name };
  const action: OagfAction = {
    kind: call.kind ?? 'llm.tool_call',
    target: scope.model === undefined ? target : { ...target, model: scope.model },
    arguments: parsed.ok ? parsed.value : call.arguments,
  };
  const context = call.callId === undefined ? scope.context : { ...scope.context, tool_call_id: call.callId };
  // The agent's OAGF-Approval rides along: an approval granted for this exact call (its digest) is redeemed here.
  const attempt = attemptOf(scope.base, scope.surface, action, { context, trace: scope.trace() });
  const result = await scope.gate.run(attempt, async (judged) => {
    // Fail closed: arguments no policy could read unambiguously are never passed on, whatever the outcome.
    const problem = parsed.ok ? call.withhold : parsed.problem;
    if (problem === undefined) return { value: { kind: 'release' as const }, settlement: { settle: { delivered: true } }, record: false };
    // Allowed but not handed on: the outcome record says so, next to the allow.
    return { value: withheld(scope.policy, call, judged.recordId, problem), settlement: { release: `withheld: ${problem}` } };
  });
  return result.ok ? result.value : refused(scope.policy, call, result.refusal);
}

/** The same sentence-initial, for messages that start with it. */
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const whatOf = (call: ProposedToolCall) => call.what ?? `the call to tool ${JSON.stringify(call.name)}`;

function refused(policy: ToolCallPolicy, call: ProposedToolCall, r: Refusal): ToolVerdict {
  if (r.kind === 'fault' || r.kind === 'unauthenticated') {
    return { kind: 'error', error: new GateHttpError('gatekeeper_fault', `gatekeeper could not decide ${whatOf(call)}: ${r.message}`, { record_id: r.recordId }) };
  }
  if (r.kind === 'approval_pending') {
    return {
      kind: 'replace',
      message: `${capital(whatOf(call))} needs human approval (approval ${r.approval!.id} is pending): ${r.decision.reasons.join('; ') || 'escalated by policy'} (gatekeeper decision ${r.recordId})`,
    };
  }
  return withheld(policy, call, r.recordId, r.decision.reasons.join('; ') || `policy outcome ${r.decision.outcome}`);
}

function withheld(policy: ToolCallPolicy, call: ProposedToolCall, recordId: string, reason: string): ToolVerdict {
  const message = `The gatekeeper withheld ${whatOf(call)}: ${reason} (gatekeeper decision ${recordId})`;
  const details = { record_id: recordId, ...(call.kind && call.kind !== 'llm.tool_call' ? { kind: call.kind } : {}), tool: call.name };
  if (policy.onDeny === 'error') return { kind: 'error', error: new GateHttpError('policy_denied', message, details) };
  return { kind: 'replace', message };
}

function argumentsOf(call: ProposedToolCall, limits: JsonLimits): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (call.value !== undefined) return boundedValue(call.value, limits);
  return call.freeform ? { ok: true, value: call.arguments } : parseArguments(call.arguments, limits);
}

/** A value read from the item is held to the same shape limits as arguments the policy parses from text. */
function boundedValue(value: unknown, limits: JsonLimits): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    parseStrictJson(JSON.stringify(value), limits, 'arguments');
    return { ok: true, value };
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    return { ok: false, problem: `its input is beyond what the policy reads: ${err.message}` };
  }
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
