/**
 * Responses API output: every item the agent would act on (output-items.ts) is decided before the agent sees it;
 * a withheld one is replaced, in the same position, by an assistant message stating the reason.
 */
import type { GateHttpError } from '../../http/errors.js';
import { ItemClassifier } from './output-items.js';
import type { ProposedToolCall, ToolVerdict } from '../../llm/tool-judge.js';

type Json = Record<string, unknown>;

export function replacementMessage(item: Json, text: string, index: number): Json {
  const ref = typeof item.id === 'string' ? item.id : typeof item.call_id === 'string' ? item.call_id : `item_${index}`;
  return {
    type: 'message',
    id: `msg_gk_${ref}`,
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

/** An output entry that is not an object cannot be read as any known item: it is an unknown one. */
export function asItem(entry: unknown): Json {
  return entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? (entry as Json) : { type: typeof entry, value: entry };
}

/**
 * Gates a response object's `output` in place. `settled(i)` gives the item already decided for position `i` (by
 * the stream gate, which saw it streamed); the rest are classified and judged here. Returns the first error
 * verdict when a call must fail the request.
 */
export async function gateResponseObject(
  response: Json,
  judge: (call: ProposedToolCall) => Promise<ToolVerdict>,
  classifier = new ItemClassifier(),
  settled: (index: number) => Json | undefined = () => undefined,
): Promise<GateHttpError | undefined> {
  if (response.output === undefined) return undefined;
  const output = Array.isArray(response.output) ? response.output.map(asItem) : [asItem(response.output)];
  const results = await Promise.all(
    output.map(async (item, i): Promise<Json | GateHttpError> => {
      const known = settled(i);
      if (known) return known;
      const role = classifier.responseItem(item);
      if (role.role === 'passive') return item;
      const v = await judge(role.call);
      if (v.kind === 'error') return v.error;
      return v.kind === 'replace' ? replacementMessage(item, v.message, i) : item;
    }),
  );
  const failed = results.find((r): r is GateHttpError => !isItem(r));
  if (failed) return failed;
  response.output = results;
  if (response.output_text !== undefined) {
    // output_text is an SDK convenience, but some servers send it: keep it consistent with the output.
    response.output_text = (results as Json[])
      .filter((i) => i.type === 'message' && Array.isArray(i.content))
      .flatMap((i) => (i.content as Json[]).filter((c) => c?.type === 'output_text').map((c) => c.text))
      .join('');
  }
  return undefined;
}

function isItem(r: Json | GateHttpError): r is Json {
  return !(r instanceof Error);
}
