/**
 * Gates a non-streamed chat completion: every tool call of every choice (function, custom, or of a type the
 * gatekeeper does not know) and a legacy `function_call` are decided (in parallel) before the agent sees the
 * response. Withheld calls are removed and their reasons appended to the message content; a choice left without
 * calls finishes with "stop" instead of "tool_calls" / "function_call".
 */
import type { GateHttpError } from '../../http/errors.js';
import { ItemClassifier } from './output-items.js';
import type { ProposedToolCall, ToolVerdict } from '../../llm/tool-judge.js';

type Json = Record<string, unknown>;

/** Rewrites `completion` in place; returns the first error verdict instead when a call must fail the request. */
export async function gateChatCompletion(
  completion: Json,
  judge: (call: ProposedToolCall) => Promise<ToolVerdict>,
  classifier = new ItemClassifier(),
): Promise<GateHttpError | undefined> {
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const work = choices.map(async (choice) => {
    const message = choice.message as Json | undefined;
    if (!message || typeof message !== 'object') return undefined;
    const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
    const legacy = message.function_call != null ? legacyCall(message.function_call) : undefined;
    if (calls.length === 0 && !legacy) return undefined;
    const verdicts = await Promise.all(calls.map((call) => judge(proposed(classifier, call))));
    const legacyVerdict = legacy ? await judge(legacy) : undefined;
    const failed = [...verdicts, legacyVerdict].find((v) => v?.kind === 'error');
    if (failed?.kind === 'error') return failed.error;
    const kept = calls.filter((_, i) => verdicts[i]!.kind === 'release');
    const notes = [...verdicts, legacyVerdict].flatMap((v) => (v?.kind === 'replace' ? [v.message] : []));
    if (notes.length > 0) {
      const before = typeof message.content === 'string' && message.content !== '' ? [message.content] : [];
      message.content = [...before, ...notes].join('\n\n');
    }
    if (kept.length > 0) message.tool_calls = kept;
    else delete message.tool_calls;
    if (legacyVerdict && legacyVerdict.kind !== 'release') delete message.function_call;
    const released = kept.length > 0 || legacyVerdict?.kind === 'release';
    if (!released && (choice.finish_reason === 'tool_calls' || choice.finish_reason === 'function_call')) choice.finish_reason = 'stop';
    return undefined;
  });
  return (await Promise.all(work)).find((e) => e !== undefined);
}

/** A `tool_calls` entry that is not even an object is an unknown item too. */
function proposed(classifier: ItemClassifier, call: unknown): ProposedToolCall {
  return classifier.chatToolCall(call !== null && typeof call === 'object' && !Array.isArray(call) ? (call as Json) : { type: typeof call, value: call });
}

/**
 * The deprecated `function_call` of a message: the gatekeeper refuses requests that offer `functions`, but a model
 * (or a hostile upstream) may still answer with one, and older agent code runs it. It is decided like a tool call.
 */
export function legacyCall(fc: unknown): ProposedToolCall {
  const f = (fc ?? {}) as Json;
  return { name: typeof f.name === 'string' ? f.name : '', arguments: typeof f.arguments === 'string' ? f.arguments : '' };
}
