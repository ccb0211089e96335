/**
 * Dynamic terms of negated expressions, as OPA's RewriteExprTerms and RewriteDynamicTerms stages leave them: the
 * calls nested in a negated expression and the references among its call arguments are evaluated *before* the
 * negation, by generated `$v = term` expressions, so an undefined one makes the body fail instead of the `not`
 * succeed (`not f(x.missing)`, `not "a" in x.missing`, `not count(x.missing) == 1`).
 *
 * What OPA rewrites, and what stays inside the negation:
 * - nested calls anywhere in the expression (arguments, composite elements, reference keys, either side of `=`,
 *   `==` or `:=`) are pulled out, inner ones first; the top-level call of the expression stays;
 * - arguments of the top-level call: references (and `input`/`data` themselves) are pulled out, composites are
 *   searched for references, comprehensions are pulled out whole;
 * - sides of `=` / `==` / `:=` and a bare term: a reference stays (only the references in its keys are pulled
 *   out), a comprehension stays, composites are searched as above.
 * Generated expressions keep the original's `with` modifiers. The rewrite runs after safety ordering (as OPA's
 * does after its safety check), so it cannot make an unsafe expression safe. For expressions that are not negated
 * evaluating these terms first changes nothing, so they are left as they are.
 */
import type { Body, Expr, Term, With } from '../ast.js';

type Emit = (t: Term, w: With[]) => Term;

const GENERATED = '$dyn';

/** An expression this pass added (a query's results list only the expressions written). */
export function isGenerated(e: Expr): boolean {
  return e.k === 'unify' && e.a.t === 'var' && e.a.name === GENERATED;
}

/** Rewrites the negated expressions of an ordered body; `alloc` hands out the frame's fresh slots. */
export function rewriteNegatedDynamics(body: Body, alloc: { n: number }): Body {
  if (!body.some((e) => e.negated)) return body;
  const out: Body = [];
  const emit: Emit = (t, w) => {
    const v: Term = { t: 'var', name: GENERATED, slot: alloc.n++, loc: t.loc };
    out.push({ k: 'unify', a: v, b: t, negated: false, with: w, loc: t.loc });
    return v;
  };
  for (const e of body) out.push(e.negated ? rewriteExpr(e, emit) : e);
  return out;
}

function rewriteExpr(e: Expr, emit: Emit): Expr {
  const pull = (t: Term) => pullCalls(t, emit, e.with);
  const dyn = (t: Term) => dynamicOne(t, emit, e.with);
  switch (e.k) {
    case 'unify': case 'assign':
      if (e.k === 'unify' && e.callOut && e.b.t === 'call') {
        // `f(x, out)` is one call expression in OPA: its output argument is an argument like the others
        return { ...e, a: dyn(pull(e.a)), b: { ...e.b, args: e.b.args.map((a) => dyn(pull(a))) } };
      }
      return { ...e, a: inTerm(pull(e.a), emit, e.with), b: inTerm(pull(e.b), emit, e.with) };
    case 'term': {
      const t = e.term;
      if (t.t === 'call' && t.op === 'equal' && t.args.length === 2) {
        // `==` is unification here (OPA's RewriteEquals): its sides are treated like `=`'s
        return { ...e, term: { ...t, args: t.args.map((a) => inTerm(pull(a), emit, e.with)) } };
      }
      if (t.t === 'call' && t.op !== 'print') return { ...e, term: { ...t, args: t.args.map((a) => dyn(pull(a))) } };
      return { ...e, term: inTerm(pull(t), emit, e.with) };
    }
    default: return e;
  }
}

/** OPA's expandExprTerm: nested calls become generated vars (their own arguments first). */
function pullCalls(t: Term, emit: Emit, w: With[]): Term {
  const rec = (x: Term) => pullCalls(x, emit, w);
  switch (t.t) {
    case 'call':
      if (t.op === 'print') return t;
      return emit({ ...t, args: t.args.map(rec) }, w);
    case 'ref': return { ...t, head: t.head.t === 'call' ? rec(t.head) : t.head, path: t.path.map(rec) };
    case 'array': case 'set': return { ...t, items: t.items.map(rec) };
    case 'object': return { ...t, items: t.items.map(([k, v]) => [rec(k), rec(v)] as [Term, Term]) };
    default: return t;
  }
}

/** OPA's rewriteDynamicsInTerm (a side of `=` or a bare term): the term itself stays when it is a reference or a comprehension. */
function inTerm(t: Term, emit: Emit, w: With[]): Term {
  switch (t.t) {
    case 'ref': return { ...t, path: t.path.map((p) => dynamicOne(p, emit, w)) };
    case 'var': case 'arraycomp': case 'setcomp': case 'objcomp': return t;
    default: return dynamicOne(t, emit, w);
  }
}

/** OPA's rewriteDynamicsOne: references and comprehensions become generated vars; composites are searched. */
function dynamicOne(t: Term, emit: Emit, w: With[]): Term {
  const rec = (x: Term) => dynamicOne(x, emit, w);
  switch (t.t) {
    case 'ref': return emit({ ...t, path: t.path.map(rec) }, w);
    case 'var': return t.slot === undefined && (t.name === 'input' || t.name === 'data') ? emit(t, w) : t;
    case 'array': case 'set': return { ...t, items: t.items.map(rec) };
    case 'object': return { ...t, items: t.items.map(([k, v]) => [rec(k), rec(v)] as [Term, Term]) };
    case 'arraycomp': case 'setcomp': case 'objcomp': return emit(t, w);
    default: return t;
  }
}
