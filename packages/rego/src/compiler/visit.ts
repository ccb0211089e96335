/** Walks over compiled terms and bodies (OPA's ast visitors). */
import type { Body, Term } from '../ast.js';
import type { CRule } from './rule-tree.js';

/** Tag on closures (comprehensions, every): outer slots they read. */
export const FREE = Symbol('free');
export type Closure = Term & { [FREE]?: number[] };

export function visitRule(r: CRule, f: (t: Term) => void): void {
  const terms: Term[] = [...r.keys, r.value, ...(r.member ? [r.member] : []), ...(r.args ?? [])];
  for (const t of terms) visitTerm(t, f);
  visitBody(r.body, f);
}

export function visitBody(b: Body, f: (t: Term) => void): void {
  for (const e of b) {
    switch (e.k) {
      case 'term': visitTerm(e.term, f); break;
      case 'unify': case 'assign': visitTerm(e.a, f); visitTerm(e.b, f); break;
      case 'some': break;
      case 'somein': if (e.key) visitTerm(e.key, f); visitTerm(e.value, f); visitTerm(e.coll, f); break;
      case 'every': visitTerm(e.coll, f); visitBody(e.body, f); break;
    }
    for (const w of e.with) { visitTerm(w.value, f); }
  }
}

export function visitTerm(t: Term, f: (t: Term) => void): void {
  f(t);
  switch (t.t) {
    case 'ref': visitTerm(t.head, f); t.path.forEach((p) => visitTerm(p, f)); break;
    case 'array': case 'set': t.items.forEach((p) => visitTerm(p, f)); break;
    case 'object': t.items.forEach(([k, v]) => { visitTerm(k, f); visitTerm(v, f); }); break;
    case 'call': t.args.forEach((p) => visitTerm(p, f)); break;
    case 'arraycomp': case 'setcomp': visitTerm(t.head, f); visitBody(t.body, f); break;
    case 'objcomp': visitTerm(t.key, f); visitTerm(t.value, f); visitBody(t.body, f); break;
    case 'template': t.parts.forEach((p) => typeof p !== 'string' && visitTerm(p, f)); break;
    case 'withterm': visitTerm(t.term, f); t.with.forEach((w) => visitTerm(w.value, f)); break;
  }
}
