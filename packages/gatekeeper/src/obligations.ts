/** Obligations on a result: `redact` removes fields from a response (an API's JSON, an MCP tool result) before the agent sees it; `label` marks the data it carries (sessions). */
import type { Obligation } from './spec/index.js';

/** Fields the `redact` obligations remove. */
export function redactions(obligations: Obligation[]): string[] {
  return obligations.filter((o) => o.type === 'redact').flatMap((o) => (o.fields ?? []).map((f) => f.replace(/^response\./, '')));
}

/** The policy's `label` obligations: labels for the action's result, each with its source (default: `source`). */
export function labelsOf(obligations: Obligation[], source: string): { label: string; source: string }[] {
  return obligations.filter((o) => o.type === 'label').flatMap((o) => (o.labels ?? []).map((label) => ({ label, source: o.source ?? source })));
}

/** The document without `fields` (dotted paths); undefined when the text is not JSON (the obligation cannot be met). */
export function redactJson(text: string, fields: string[]): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  removeFields(doc, fields);
  return JSON.stringify(doc);
}

/** Removes `fields` (dotted paths) from a parsed JSON document in place. */
export function removeFields(doc: unknown, fields: string[]): void {
  for (const field of fields) {
    const keys = field.split('.');
    let node = doc as Record<string, unknown> | undefined;
    for (const k of keys.slice(0, -1)) node = node && typeof node === 'object' ? (node[k] as Record<string, unknown>) : undefined;
    if (node && typeof node === 'object') delete node[keys[keys.length - 1]!];
  }
}
