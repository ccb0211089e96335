/**
 * Provenance: where an action carries text of an earlier labelled result. Results come back two ways — seen by
 * the gatekeeper as it carries the action out (API proxy, MCP), or, for tool calls a model proposed, as the
 * tool message of the agent's next model request — and both are fingerprinted (fingerprint.ts). An action's
 * string values (tool arguments, API body and query; for a model request its non-tool messages) are then
 * probed against every labelled result in scope.
 */
import type { OagfAction } from '../spec/index.js';
import type { SessionEntry } from '../stores/session-history.js';
import { MIN_CHARS, Probe } from './fingerprint.js';
import { perHistory } from './per-history.js';

export interface Flow {
  path: string;
  chars: number;
  from: SessionEntry;
}

/** A tool result the agent sends back to the model: its call id and content. */
export interface ToolResult {
  callId: string;
  content: unknown;
}

const MAX_FLOWS = 32;

/** Tool results in a model request's conversation: chat `tool` messages, Responses `function_call_output`, Anthropic `tool_result`. */
export function toolResultsOf(transcript: unknown): ToolResult[] {
  if (!Array.isArray(transcript)) return [];
  const out: ToolResult[] = [];
  for (const m of transcript as Record<string, unknown>[]) {
    if (m === null || typeof m !== 'object') continue;
    if (m.role === 'tool' && typeof m.tool_call_id === 'string') out.push({ callId: m.tool_call_id, content: m.content });
    else if (m.type === 'function_call_output' && typeof m.call_id === 'string') out.push({ callId: m.call_id, content: m.output });
    else if (Array.isArray(m.content)) {
      for (const block of m.content as Record<string, unknown>[]) {
        if (block?.type === 'tool_result' && typeof block.tool_use_id === 'string') out.push({ callId: block.tool_use_id, content: block.content });
      }
    }
  }
  return out;
}

/** The values of an action that may carry earlier results, with their paths. */
function valuesOf(action: OagfAction, transcript: unknown): [string, unknown][] {
  if (action.kind !== 'llm.request') return [['arguments', action.arguments], ['body', action.body], ['query', action.query]];
  if (!Array.isArray(transcript)) return [];
  // The tool results themselves are where the text comes from, not a flow.
  return transcript.flatMap((m: Record<string, unknown>, i): [string, unknown][] =>
    m && typeof m === 'object' && m.role !== 'tool' && m.type !== 'function_call_output' ? [[`messages.${i}`, m.content]] : [],
  );
}

/** Labelled results the gatekeeper fingerprinted: where flows can come from. */
const sourcesOf = perHistory((entries) => entries.filter((e) => e.labels?.length && e.print?.hashes.length));

export function flowsOf(action: OagfAction, transcript: unknown, entries: readonly SessionEntry[]): Flow[] {
  const sources = sourcesOf(entries);
  if (!sources.length) return [];
  const flows: Flow[] = [];
  const visit = (path: string, value: unknown): void => {
    if (flows.length >= MAX_FLOWS) return;
    if (typeof value === 'string') {
      if (value.length < MIN_CHARS) return;
      const probe = new Probe(value);
      if (probe.empty) return;
      for (const from of sources) {
        const chars = probe.sharedChars(from.print!.hashes);
        if (chars) flows.push({ path, chars, from });
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(`${path}.${i}`, v));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(`${path}.${k}`, v);
    }
  };
  for (const [path, value] of valuesOf(action, transcript)) visit(path, value);
  return flows.slice(0, MAX_FLOWS);
}
