/**
 * Tool calls in Responses API output: which output items the agent would execute (`function_call`,
 * `custom_tool_call`), and the assistant message item that replaces a withheld one.
 */
import type { ProposedToolCall, ToolVerdict } from './tool-judge.js';
import type { GateHttpError } from '../../http/errors.js';

type Json = Record<string, unknown>;

export function proposedCallOf(item: Json): ProposedToolCall | undefined {
  if (item.type === 'function_call') {
    return { name: String(item.name ?? ''), arguments: String(item.arguments ?? ''), callId: item.call_id as string | undefined };
  }
  if (item.type === 'custom_tool_call') {
    return { name: String(item.name ?? ''), arguments: String(item.input ?? ''), callId: item.call_id as string | undefined, freeform: true };
  }
  return undefined;
}

export function replacementMessage(item: Json, text: string): Json {
  return {
    type: 'message',
    id: `msg_gk_${String(item.id ?? item.call_id ?? 'call')}`,
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

/**
 * Gates a non-streamed response object in place: withheld calls become assistant messages in the same
 * position. Returns the first error verdict when a call must fail the request.
 */
export async function gateResponseObject(response: Json, judge: (call: ProposedToolCall) => Promise<ToolVerdict>): Promise<GateHttpError | undefined> {
  const output = Array.isArray(response.output) ? (response.output as Json[]) : [];
  const verdicts = await Promise.all(
    output.map((item) => {
      const call = proposedCallOf(item);
      return call ? judge(call) : undefined;
    }),
  );
  const failed = verdicts.find((v) => v?.kind === 'error');
  if (failed?.kind === 'error') return failed.error;
  response.output = output.map((item, i) => {
    const v = verdicts[i];
    return v?.kind === 'replace' ? replacementMessage(item, v.message) : item;
  });
  if (typeof response.output_text === 'string') {
    // output_text is an SDK convenience, but some servers send it: keep it consistent with the output.
    response.output_text = (response.output as Json[])
      .filter((i) => i.type === 'message')
      .flatMap((i) => (i.content as Json[]).filter((c) => c.type === 'output_text').map((c) => c.text))
      .join('');
  }
  return undefined;
}
