/**
 * walk(x): every nested document of x as a [path, value] pair, pre-order (OPA topdown/walk.go).
 * walk is a relation: `fn` returns the array of all pairs and `relation: true` tells the
 * evaluator to bind the output to each pair in turn.
 */
import { isArray, isObject, isSet, type Value } from '../value.js';
import type { BuiltinDef, BuiltinTable } from './registry.js';

export function walkPairs(x: Value): Value[] {
  const out: Value[] = [];
  // explicit stack: input may be nested deeper than the JS call stack allows
  const stack: [Value[], Value][] = [[[], x]];
  while (stack.length > 0) {
    const [path, v] = stack.pop()!;
    out.push([path, v]);
    const children: [Value[], Value][] = [];
    if (isObject(v)) for (const [k, c] of v.entries()) children.push([[...path, k], c]);
    else if (isArray(v)) v.forEach((c, i) => children.push([[...path, i], c]));
    else if (isSet(v)) for (const c of v.values()) children.push([[...path, c], c]);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

const walk: BuiltinDef = {
  name: 'walk',
  args: ['any'],
  result: 'array[array|any]',
  relation: true,
  fn: ([x]) => walkPairs(x),
};

export const builtins: BuiltinTable = { walk };
