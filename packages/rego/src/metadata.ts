/** rego.metadata.rule() / rego.metadata.chain(): METADATA annotations as OPA returns them. */
import type { Annotations } from './ast.js';
import type { CRule } from './compiler/rule-tree.js';
import { fromJSON, makeObject, type Value } from './value.js';

/** OPA's normalised annotation object (authors and related_resources expanded). */
export function annotationValue(a: Annotations): Value {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a.data)) {
    if (k === 'authors' && Array.isArray(v)) out.authors = v.map(author);
    else if (k === 'related_resources' && Array.isArray(v)) out.related_resources = v.map((r) => (typeof r === 'string' ? { ref: r } : r));
    else out[k] = v;
  }
  out.scope = a.scope;
  return fromJSON(out);
}

function author(a: unknown): unknown {
  if (typeof a !== 'string') return a;
  const m = /^(.*?)\s*<([^>]+)>$/.exec(a.trim());
  if (m) return m[1] ? { name: m[1], email: m[2] } : { email: m[2] };
  return { name: a.trim() };
}

export function metadataRule(r: CRule | undefined): Value {
  if (!r?.annotations || r.annotations.scope !== 'rule') return makeObject([]);
  return annotationValue(r.annotations);
}

export function metadataChain(r: CRule | undefined): Value {
  if (!r) return [];
  const chain: Value[] = [];
  const entry = (path: string[], a?: Annotations): Value =>
    makeObject(a ? [['annotations', annotationValue(a)], ['path', path]] : [['path', path]]);
  chain.push(entry(r.path, r.annotations && r.annotations.scope === 'rule' ? r.annotations : undefined));
  if (r.docAnnotation) chain.push(entry(r.path, r.docAnnotation));
  for (const p of r.pkgAnnotations) chain.push(entry(p.path, p.a));
  return chain;
}
