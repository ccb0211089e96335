/** Ground terms: patterns of function parameters, ground literals and their folding into constants. */
import type { Term } from '../ast.js';
import { makeObject, makeSet, type Value } from '../value.js';

/** Terms that match a value by structure (function parameters). */
export function isPattern(t: Term): boolean {
  switch (t.t) {
    case 'var': case 'scalar': case 'const': return true;
    case 'array': return t.items.every(isPattern);
    case 'object': return t.items.every(([k, v]) => isGround(k) && isPattern(v));
    case 'ref': return t.head.t === 'var' && t.head.slot === undefined;
    default: return false;
  }
}

export function isGround(t: Term): boolean {
  switch (t.t) {
    case 'scalar': case 'const': return true;
    case 'array': case 'set': return t.items.every(isGround);
    case 'object': return t.items.every(([k, v]) => isGround(k) && isGround(v));
    default: return false;
  }
}

export function groundValue(t: Term): Value {
  switch (t.t) {
    case 'scalar': case 'const': return t.v;
    case 'array': return t.items.map(groundValue);
    case 'set': return makeSet(t.items.map(groundValue));
    case 'object': return makeObject(t.items.map(([k, v]) => [groundValue(k), groundValue(v)]));
    default: throw new Error('not ground');
  }
}

/** Ground composite literals become constants (built once). */
export function foldConst(t: Term): Term {
  if ((t.t === 'array' || t.t === 'set' || t.t === 'object') && isGround(t)) return { t: 'const', v: groundValue(t), loc: t.loc };
  return t;
}
