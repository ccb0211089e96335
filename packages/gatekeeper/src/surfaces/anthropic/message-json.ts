/**
 * Gates a whole Claude message: every block the agent would act on (content.ts) is decided, in parallel, before
 * the agent sees the message. A withheld block is replaced, in its place, by a text block stating the reason; a
 * message left without any `tool_use` stops with `end_turn` instead of `tool_use`, so the client does not look for
 * calls to run.
 */
import type { GateHttpError } from '../../http/errors.js';
import type { ProposedToolCall, ToolVerdict } from '../../llm/tool-judge.js';
import { BlockClassifier } from './content.js';

type Json = Record<string, unknown>;

export const textBlock = (text: string): Json => ({ type: 'text', text });

/** Rewrites `message` in place; returns the first error verdict instead when a block must fail the request. */
export async function gateMessage(message: Json, judge: (call: ProposedToolCall) => Promise<ToolVerdict>, classifier: BlockClassifier): Promise<GateHttpError | undefined> {
  if (message.content === undefined) return undefined;
  const blocks = (Array.isArray(message.content) ? message.content : [message.content]).map(asBlock);
  const results = await Promise.all(
    blocks.map(async (block): Promise<{ block: Json; released: boolean } | GateHttpError> => {
      const role = classifier.block(block);
      if (role.role === 'passive') return { block, released: false };
      const v = await judge(role.call);
      if (v.kind === 'error') return v.error;
      return v.kind === 'replace' ? { block: textBlock(v.message), released: false } : { block, released: block.type === 'tool_use' };
    }),
  );
  const failed = results.find((r): r is GateHttpError => r instanceof Error);
  if (failed) return failed;
  const kept = results as { block: Json; released: boolean }[];
  message.content = kept.map((r) => r.block);
  if (message.stop_reason === 'tool_use' && !kept.some((r) => r.released)) message.stop_reason = 'end_turn';
  return undefined;
}

/** A content entry that is not even an object is a block of unknown type. */
export function asBlock(entry: unknown): Json {
  return entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? (entry as Json) : { type: typeof entry, value: entry };
}
