/** Aggregate builtins (OPA topdown/aggregates.go): count, sum, product, max, min, sort, all, any. */
import { add, isInteger, mul, toBigInt, numFromJS, type Num } from '../num.js';
import { compare, equal, isArray, isNum, isObject, isSet, type Value } from '../value.js';
import type { BuiltinTable } from './registry.js';
import { elementErr, items, typeErr } from './operands.js';
import { runeCount } from './strings.js';

/** Members of a set or array operand; OPA's runtime message lists "set, array". */
function collection(v: Value, ...expected: string[]): Value[] {
  const xs = items(v);
  if (xs === undefined) throw typeErr(1, v, ...expected);
  return xs;
}

function numbers(v: Value): Num[] {
  const xs = collection(v, 'set', 'array');
  for (const x of xs) if (!isNum(x)) throw elementErr(1, v, x, 'number');
  return xs as Num[];
}

/** Integers accumulate exactly on bigints; any non-integer switches to floating point. */
function accumulate(ns: Num[], init: number, op: (a: Num, b: Num) => Num, bigOp: (a: bigint, b: bigint) => bigint): Num {
  if (ns.every(isInteger)) {
    let acc = BigInt(init);
    for (const n of ns) acc = bigOp(acc, toBigInt(n));
    return numFromJS(acc);
  }
  let acc: Num = init;
  for (const n of ns) acc = op(acc, n);
  return acc;
}

export const builtins: BuiltinTable = {
  count: {
    name: 'count',
    args: ['array|object|set|string'],
    result: 'number',
    fn: ([c]) => {
      if (typeof c === 'string') return runeCount(c);
      if (isArray(c)) return c.length;
      if (isObject(c) || isSet(c)) return c.size;
      throw typeErr(1, c, 'array', 'object', 'set', 'string');
    },
  },
  sum: {
    name: 'sum',
    args: ['set[number]|array[number]'],
    result: 'number',
    fn: ([c]) => accumulate(numbers(c), 0, add, (a, b) => a + b),
  },
  product: {
    name: 'product',
    args: ['set[number]|array[number]'],
    result: 'number',
    fn: ([c]) => accumulate(numbers(c), 1, mul, (a, b) => a * b),
  },
  max: {
    name: 'max',
    args: ['set|array'],
    result: 'any',
    fn: ([c]) => {
      const xs = collection(c, 'set', 'array');
      if (xs.length === 0) return undefined;
      return xs.reduce((m, x) => (compare(m, x) <= 0 ? x : m));
    },
  },
  min: {
    name: 'min',
    args: ['set|array'],
    result: 'any',
    fn: ([c]) => {
      const xs = collection(c, 'set', 'array');
      if (xs.length === 0) return undefined;
      return xs.reduce((m, x) => (compare(m, x) >= 0 ? x : m));
    },
  },
  sort: {
    name: 'sort',
    args: ['set|array'],
    result: 'array',
    fn: ([c]) => {
      if (isSet(c)) return c.values().slice();
      return [...collection(c, 'set', 'array')].sort(compare);
    },
  },
  all: {
    name: 'all',
    args: ['array|set'],
    result: 'boolean',
    fn: ([c]) => collection(c, 'array', 'set').every((x) => equal(x, true)),
  },
  any: {
    name: 'any',
    args: ['array|set'],
    result: 'boolean',
    fn: ([c]) => collection(c, 'array', 'set').some((x) => equal(x, true)),
  },
};
