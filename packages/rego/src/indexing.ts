/**
 * Rule indexing: when many rules share a name and each tests one input field — against a constant
 * (`input.kind == "order"`) or a glob pattern (`glob.match("api.orders.*", [], input.path)`) — only the
 * rules that can match the input are evaluated. Glob rules are bucketed by the pattern's first segment
 * (up to the first delimiter); patterns whose first segment holds a wildcard are always candidates.
 */
import type { Term } from './ast.js';
import type { CRule } from './compiler/rule-tree.js';
import { refText } from './parser.js';
import { keyOf, RSet, type Value } from './value.js';

export interface RuleIndex {
  /** the input ref whose value selects rules */
  ref: Term;
  /** equality: bucket = the constant; glob: bucket = first segment of a literal pattern */
  kind: 'equal' | 'glob';
  /** glob delimiters (for splitting the input value the same way) */
  delimiters?: string[];
  byValue: Map<unknown, CRule[]>;
  /** glob patterns starting with a wildcard: candidates for every string input */
  wild: CRule[];
  /** rules that do not test the ref: always candidates */
  rest: CRule[];
  /** candidate lists already put together, by bucket */
  merged: Map<unknown, CRule[]>;
}

const MIN_RULES = 4;

interface Test { ref: Term; kind: 'equal' | 'glob'; bucket: unknown; delimiters?: string[]; wild?: boolean }

function isConst(t: Term): t is Term & { v: Value } {
  return t.t === 'scalar' || t.t === 'const';
}

function inputRef(t: Term): boolean {
  return t.t === 'ref' && t.head.t === 'var' && t.head.slot === undefined && t.head.name === 'input' && t.path.every(isConst);
}

function refKey(t: Term): string {
  return refText(t) ?? JSON.stringify((t as { path: { v: unknown }[] }).path.map((p) => p.v));
}

/** OPA's glob delimiters: `[]` means ".", `null` means none. */
function delimitersOf(v: Value): string[] | undefined {
  if (v === null) return [];
  const items = Array.isArray(v) ? v : v instanceof RSet ? v.values() : undefined;
  if (!items || !items.every((d) => typeof d === 'string')) return undefined;
  return items.length ? (items as string[]) : ['.'];
}

export function firstSegment(s: string, delimiters: string[]): string {
  let end = s.length;
  for (const d of delimiters) {
    if (!d) continue;
    const i = s.indexOf(d);
    if (i >= 0 && i < end) end = i;
  }
  return s.slice(0, end);
}

/** Index-able tests in a rule body, by `kind|ref|delimiters`. */
function testsOf(rule: CRule): Map<string, Test> {
  const out = new Map<string, Test>();
  for (const e of rule.body) {
    if (e.negated || e.with.length) continue;
    let a: Term | undefined, b: Term | undefined;
    if (e.k === 'term' && e.term.t === 'call' && e.term.op === 'glob.match') {
      const [p, d, r] = e.term.args;
      if (!p || !d || !r || !isConst(p) || typeof p.v !== 'string' || !isConst(d) || !inputRef(r)) continue;
      const delimiters = delimitersOf(d.v);
      if (!delimiters) continue;
      const seg = firstSegment(p.v, delimiters);
      const key = `glob|${refKey(r)}|${JSON.stringify(delimiters)}`;
      if (!out.has(key)) out.set(key, { ref: r, kind: 'glob', delimiters, bucket: seg, wild: /[*?[\]{}\\]/.test(seg) });
      continue;
    }
    if (e.k === 'term' && e.term.t === 'call' && e.term.op === 'equal') [a, b] = e.term.args;
    else if (e.k === 'unify') { a = e.a; b = e.b; }
    if (!a || !b) continue;
    if (isConst(a)) [a, b] = [b, a];
    if (!isConst(b) || !inputRef(a)) continue;
    const key = `equal|${refKey(a)}`;
    if (!out.has(key)) out.set(key, { ref: a, kind: 'equal', bucket: keyOf(b.v) });
  }
  return out;
}

export function buildIndex(rules: CRule[]): RuleIndex | undefined {
  if (rules.length < MIN_RULES) return undefined;
  const tests = rules.map(testsOf);
  const counts = new Map<string, number>();
  for (const t of tests) for (const k of t.keys()) counts.set(k, (counts.get(k) ?? 0) + 1);
  let best: string | undefined, bestN = 0;
  for (const [k, n] of counts) if (n > bestN) { best = k; bestN = n; }
  if (!best || bestN < MIN_RULES) return undefined;
  const byValue = new Map<unknown, CRule[]>();
  const wild: CRule[] = [], rest: CRule[] = [];
  let sample: Test | undefined;
  rules.forEach((r, i) => {
    const t = tests[i].get(best!);
    if (!t) { rest.push(r); return; }
    sample = t;
    if (t.wild) { wild.push(r); return; }
    const list = byValue.get(t.bucket);
    if (list) list.push(r); else byValue.set(t.bucket, [r]);
  });
  return { ref: sample!.ref, kind: sample!.kind, delimiters: sample!.delimiters, byValue, wild, rest, merged: new Map() };
}

/** Candidate rules for the value the index ref has (undefined: the ref is undefined). */
export function candidatesFor(idx: RuleIndex, v: Value | undefined): CRule[] {
  if (v === undefined) return idx.rest;
  if (idx.kind === 'equal') {
    const bucket = keyOf(v);
    const hit = idx.byValue.get(bucket);
    if (!hit) return idx.rest;
    if (!idx.rest.length) return hit;
    let list = idx.merged.get(bucket);
    if (!list) idx.merged.set(bucket, (list = [...hit, ...idx.rest]));
    return list;
  }
  if (typeof v !== 'string') return idx.rest;
  const bucket = firstSegment(v, idx.delimiters!);
  const hit = idx.byValue.get(bucket);
  if (!hit) return idx.wild.length ? [...idx.wild, ...idx.rest] : idx.rest;
  if (!idx.wild.length && !idx.rest.length) return hit;
  let list = idx.merged.get(bucket);
  if (!list) idx.merged.set(bucket, (list = [...hit, ...idx.wild, ...idx.rest]));
  return list;
}
