/**
 * What comes back from an upstream, passed through the decision's obligations before the agent sees it, and what
 * of it the outcome record keeps. Obligations on MCP results:
 *
 * - `redact` {fields}: dotted paths into the result (`structuredContent.customer.ssn`; a `response.` prefix is
 *   ignored as on the API proxy). Text blocks holding JSON — servers mirror structuredContent there — lose the same
 *   paths below `structuredContent`, so the field cannot leak through the mirror.
 * - `mcp.max_result_bytes` {bytes}: a larger result is withheld (the agent gets an error result saying so).
 * - `hide_tools` {tools: [{server, tool}]}, `hide_resources` {resources: [{server, uri}]}, `hide_prompts`
 *   {prompts: [{server, prompt}]}: on the listings only (governed.ts).
 * - `label` {labels, source}: the result goes to the agent unchanged and to the session history's fingerprints.
 *
 * Any other obligation cannot be fulfilled here, so the result is withheld (fail closed).
 */
import { removeFields, redactions } from '../../obligations.js';
import type { Obligation } from '../../spec/index.js';
import type { Redactor } from '../../redact.js';

export const MAX_RESULT_OBLIGATION = 'mcp.max_result_bytes';
export const HIDE_TOOLS_OBLIGATION = 'hide_tools';

const UNDERSTOOD = new Set(['redact', 'label', MAX_RESULT_OBLIGATION]);

export interface ResultLike {
  content?: unknown;
  structuredContent?: unknown;
  contents?: unknown;
  messages?: unknown;
  isError?: boolean;
  [key: string]: unknown;
}

export type Fulfilled<T> = { ok: true; result: T; bytes: number } | { ok: false; problem: string; bytes: number };

export function fulfil<T extends ResultLike>(result: T, obligations: Obligation[], extra: ReadonlySet<string> = new Set()): Fulfilled<T> {
  const unknown = obligations.filter((o) => !UNDERSTOOD.has(o.type) && !extra.has(o.type)).map((o) => o.type);
  const bytesOf = (r: unknown) => Buffer.byteLength(JSON.stringify(r));
  if (unknown.length) return { ok: false, problem: `the policy's obligation ${unknown.join(', ')} cannot be fulfilled on an MCP result`, bytes: bytesOf(result) };
  const fields = redactions(obligations);
  let out = result;
  if (fields.length) {
    out = structuredClone(result);
    removeFields(out, fields);
    const mirrored = fields.filter((f) => f.startsWith('structuredContent.')).map((f) => f.slice('structuredContent.'.length));
    if (mirrored.length && Array.isArray(out.content)) for (const block of out.content as { type?: string; text?: string }[]) redactJsonText(block, mirrored);
  }
  const bytes = bytesOf(out);
  const limit = Math.min(...obligations.filter((o) => o.type === MAX_RESULT_OBLIGATION).map((o) => Number(o.bytes)).filter((n) => n >= 0));
  if (bytes > limit) return { ok: false, problem: `the result (${bytes} bytes) is over the ${limit}-byte limit the policy set`, bytes };
  return { ok: true, result: out, bytes };
}

function redactJsonText(block: { type?: string; text?: string }, fields: string[]): void {
  if (block.type !== 'text' || typeof block.text !== 'string') return;
  let doc: unknown;
  try {
    doc = JSON.parse(block.text);
  } catch {
    return;
  }
  if (!doc || typeof doc !== 'object') return;
  removeFields(doc, fields);
  block.text = JSON.stringify(doc);
}

const EXCERPT = 2048;

/**
 * The outcome record's view of a result: kinds of content, size, and the text and structured content with secrets
 * redacted and cut to an excerpt (a ledger entry stays small; the full result went to the agent).
 */
export function resultFacts(result: ResultLike, bytes: number, redactor: Redactor): Record<string, unknown> {
  const blocks = (Array.isArray(result.content) ? result.content : Array.isArray(result.contents) ? result.contents : Array.isArray(result.messages) ? result.messages : []) as Record<string, unknown>[];
  const text = blocks
    .map((b) => (typeof b.text === 'string' ? b.text : typeof (b.content as { text?: unknown })?.text === 'string' ? (b.content as { text: string }).text : ''))
    .filter(Boolean)
    .join('\n');
  const structured = result.structuredContent === undefined ? undefined : JSON.stringify(redactor.value(result.structuredContent));
  return {
    result_bytes: bytes,
    ...(result.isError ? { is_error: true } : {}),
    content_types: [...new Set(blocks.map((b) => String(b.type ?? (b.uri ? 'resource' : b.role ? 'message' : 'unknown'))))],
    ...(text ? { text: cut(redactor.text(text)) } : {}),
    ...(structured !== undefined ? { structured: cut(structured) } : {}),
  };
}

function cut(s: string): string {
  return s.length > EXCERPT ? `${s.slice(0, EXCERPT)}… (${s.length} characters)` : s;
}
