/**
 * Rule indexing: when many rules share a name and each tests one input field against a constant
 * (`input.kind == "order"`), only the rules whose constant matches the input are evaluated.
 */
import type { Term } from './ast.js';
import type { CRule } from './compiler.js';
import { refText } from './parser.js';
import { keyOf, type Value } from './value.js';

export interface RuleIndex {
  /** the input ref whose value selects rules */
  ref: Term;
  byValue: Map<unknown, CRule[]>;
  /** rules that do not test the ref: always candidates */
  rest: CRule[];
}

const MIN_RULES = 4;

/** `ref == const`, `const == ref` or `ref = const` on an input ref with constant keys. */
function equalityTest(rule: CRule): Map<string, { ref: Term; v: Value }> {
  const out = new Map<string, { ref: Term; v: Value }>();
  for (const e of rule.body) {
    if (e.negated || e.with.length) continue;
    let a: Term | undefined, b: Term | undefined;
    if (e.k === 'term' && e.term.t === 'call' && e.term.op === 'equal') [a, b] = e.term.args;
    else if (e.k === 'unify') { a = e.a; b = e.b; }
    if (!a || !b) continue;
    if (isConst(a)) [a, b] = [b, a];
    if (!isConst(b) || a.t !== 'ref' || a.head.t !== 'var' || a.head.slot !== undefined || a.head.name !== 'input') continue;
    if (!a.path.every(isConst)) continue;
    const text = refText(a) ?? JSON.stringify(a.path.map((p) => (p as { v: unknown }).v));
    if (!out.has(text)) out.set(text, { ref: a, v: (b as { v: Value }).v });
  }
  return out;
}

function isConst(t: Term): t is Term & { v: Value } {
  return t.t === 'scalar' || t.t === 'const';
}

export function buildIndex(rules: CRule[]): RuleIndex | undefined {
  if (rules.length < MIN_RULES) return undefined;
  const tests = rules.map(equalityTest);
  const counts = new Map<string, number>();
  for (const t of tests) for (const k of t.keys()) counts.set(k, (counts.get(k) ?? 0) + 1);
  let best: string | undefined, bestN = 0;
  for (const [k, n] of counts) if (n > bestN) { best = k; bestN = n; }
  if (!best || bestN < MIN_RULES) return undefined;
  const byValue = new Map<unknown, CRule[]>();
  const rest: CRule[] = [];
  let ref: Term | undefined;
  rules.forEach((r, i) => {
    const t = tests[i].get(best!);
    if (!t) { rest.push(r); return; }
    ref = t.ref;
    const k = keyOf(t.v);
    const list = byValue.get(k);
    if (list) list.push(r); else byValue.set(k, [r]);
  });
  return { ref: ref!, byValue, rest };
}
