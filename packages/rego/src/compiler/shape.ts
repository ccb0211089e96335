/** The last pass: compiled terms and expressions reshaped for the evaluator. */
import type { Body, Expr, Term, With } from '../ast.js';
import { equal } from '../value.js';

/**
 * Copies of compiled terms and expressions that all have one object shape (every field of every kind, unused
 * ones undefined): the evaluator reads `t.t`, `e.k`, ... of every kind of term at the same sites, and with one
 * shape those reads stay monomorphic instead of going through V8's megamorphic lookup.
 */
export function shapeTerm(t: Term): Term {
  const u: Record<string, unknown> = {
    t: t.t, v: undefined, slot: undefined, head: undefined, path: undefined,
    name: undefined, walk: undefined, args: undefined, builtin: undefined, fn: undefined, literalArg: undefined, kinds: undefined, loc: t.loc,
    items: undefined, op: undefined, key: undefined, value: undefined, body: undefined, parts: undefined, term: undefined, with: undefined,
  };
  switch (t.t) {
    case 'scalar': case 'const': u.v = t.v; break;
    case 'var': u.name = t.name; u.slot = t.slot; break;
    case 'ref': u.head = shapeTerm(t.head); u.path = t.path.map(shapeTerm); break;
    case 'array': case 'set': u.items = t.items.map(shapeTerm); break;
    case 'object': u.items = t.items.map(([k, v]) => [shapeTerm(k), shapeTerm(v)]); break;
    case 'call':
      u.op = t.op; u.args = t.args.map(shapeTerm); u.builtin = t.builtin;
      if (t.builtin?.name === 'equal') u.literalArg = isLiteral(t.args[1]) ? 1 : isLiteral(t.args[0]) ? 0 : undefined;
      break;
    case 'arraycomp': case 'setcomp': u.head = shapeTerm(t.head); u.body = shapeBody(t.body); break;
    case 'objcomp': u.key = shapeTerm(t.key); u.value = shapeTerm(t.value); u.body = shapeBody(t.body); break;
    case 'template': u.parts = t.parts.map((p) => (typeof p === 'string' ? p : shapeTerm(p))); break;
    case 'withterm': u.term = shapeTerm(t.term); u.with = t.with.map(shapeWith); break;
  }
  return u as Term;
}

/**
 * An array literal, or an object literal whose keys are distinct scalars: the evaluator compares a value with it
 * member by member instead of building it (an object's size then equals its number of items).
 */
function isLiteral(t: Term): boolean {
  if (t.t === 'array') return true;
  if (t.t !== 'object') return false;
  const keys = t.items.map(([k]) => k);
  return keys.every((k, i) => k.t === 'scalar' && keys.findIndex((j) => j.t === 'scalar' && equal(j.v, k.v)) === i);
}

export function shapeBody(body: Body): Body {
  return body.map((e) => {
    const u: Record<string, unknown> = {
      k: e.k, term: undefined, a: undefined, b: undefined, vars: undefined, key: undefined, value: undefined, coll: undefined,
      body: undefined, negated: e.negated, with: e.with.map(shapeWith), loc: e.loc,
    };
    switch (e.k) {
      case 'term': u.term = shapeTerm(e.term); break;
      case 'unify': case 'assign': u.a = shapeTerm(e.a); u.b = shapeTerm(e.b); break;
      case 'some': u.vars = e.vars.map(shapeTerm); break;
      case 'somein': u.key = e.key && shapeTerm(e.key); u.value = shapeTerm(e.value); u.coll = shapeTerm(e.coll); break;
      case 'every': u.key = e.key && shapeTerm(e.key); u.value = shapeTerm(e.value); u.coll = shapeTerm(e.coll); u.body = shapeBody(e.body); break;
    }
    return u as Expr;
  });
}

function shapeWith(w: With): With {
  return { target: shapeTerm(w.target), value: shapeTerm(w.value), loc: w.loc };
}
