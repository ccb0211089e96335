/**
 * Gates a non-streamed chat completion: every tool call of every choice is decided (in parallel) before
 * the agent sees the response. Withheld calls are removed and their reasons appended to the message
 * content; a choice left without calls finishes with "stop" instead of "tool_calls".
 */
import type { GateHttpError } from '../../http/errors.js';
import type { ProposedToolCall, ToolVerdict } from './tool-judge.js';

type Json = Record<string, unknown>;

/** Rewrites `completion` in place; returns the first error verdict instead when a call must fail the request. */
export async function gateChatCompletion(completion: Json, judge: (call: ProposedToolCall) => Promise<ToolVerdict>): Promise<GateHttpError | undefined> {
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const work = choices.map(async (choice) => {
    const message = choice.message as Json | undefined;
    const calls = message && Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
    if (calls.length === 0) return undefined;
    const verdicts = await Promise.all(
      calls.map((call) => {
        const fn = (call.function ?? {}) as Json;
        return judge({ name: String(fn.name ?? ''), arguments: String(fn.arguments ?? ''), callId: call.id as string | undefined });
      }),
    );
    const failed = verdicts.find((v) => v.kind === 'error');
    if (failed) return failed.error;
    const kept = calls.filter((_, i) => verdicts[i]!.kind === 'release');
    const notes = verdicts.flatMap((v) => (v.kind === 'replace' ? [v.message] : []));
    if (notes.length > 0) {
      const before = typeof message!.content === 'string' && message!.content !== '' ? [message!.content] : [];
      message!.content = [...before, ...notes].join('\n\n');
    }
    if (kept.length > 0) {
      message!.tool_calls = kept;
    } else {
      delete message!.tool_calls;
      if (choice.finish_reason === 'tool_calls') choice.finish_reason = 'stop';
    }
    return undefined;
  });
  return (await Promise.all(work)).find((e) => e !== undefined);
}
