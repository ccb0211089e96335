/** intersection / union of a set of sets, and the deprecated set_diff (set operators live in the core). */
import { makeSet, type RSet, type Value } from '../value.js';
import type { BuiltinTable } from './registry.js';
import { set } from './operands.js';

function memberSets(v: Value): RSet[] {
  return set(v, 1).values().map((x) => set(x, 1));
}

export const builtins: BuiltinTable = {
  intersection: {
    name: 'intersection',
    args: ['set[set]'],
    result: 'set',
    fn: ([xs]) => {
      const sets = memberSets(xs);
      if (sets.length === 0) return makeSet([]);
      const [first, ...rest] = sets;
      return makeSet(first.values().filter((x) => rest.every((s) => s.has(x))));
    },
  },
  union: {
    name: 'union',
    args: ['set[set]'],
    result: 'set',
    fn: ([xs]) => makeSet(memberSets(xs).flatMap((s) => s.values())),
  },
  set_diff: {
    name: 'set_diff',
    args: ['set', 'set'],
    result: 'set',
    fn: ([a, b]) => {
      const x = set(a, 1), y = set(b, 2);
      return makeSet(x.values().filter((v) => !y.has(v)));
    },
  },
};
