/** Number builtins: abs, ceil, floor, round, numbers.range, numbers.range_step, rand.intn. */
import { abs, ceil, floor, numFromJS, round } from '../num.js';
import type { Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { bigInt, int, num, str } from './operands.js';

/** Ranges longer than this are refused: a policy must not be able to exhaust the gateway's memory. */
export const MAX_RANGE = 10_000_000;

function range(name: string, x: bigint, y: bigint, step: bigint): Value[] {
  const len = (x <= y ? y - x : x - y) / step + 1n;
  if (len > BigInt(MAX_RANGE)) throw new BuiltinError(`${name}: range of ${len} numbers exceeds the limit of ${MAX_RANGE}`);
  const out: Value[] = [];
  if (x <= y) for (let i = x; i <= y; i += step) out.push(numFromJS(i));
  else for (let i = x; i >= y; i -= step) out.push(numFromJS(i));
  return out;
}

export const builtins: BuiltinTable = {
  abs: { name: 'abs', args: ['number'], result: 'number', fn: ([x]) => abs(num(x, 1)) },
  ceil: { name: 'ceil', args: ['number'], result: 'number', fn: ([x]) => ceil(num(x, 1)) },
  floor: { name: 'floor', args: ['number'], result: 'number', fn: ([x]) => floor(num(x, 1)) },
  round: { name: 'round', args: ['number'], result: 'number', fn: ([x]) => round(num(x, 1)) },
  'numbers.range': {
    name: 'numbers.range',
    args: ['number', 'number'],
    result: 'array[number]',
    fn: ([a, b]) => range('numbers.range', bigInt(a, 1), bigInt(b, 2), 1n),
  },
  'numbers.range_step': {
    name: 'numbers.range_step',
    args: ['number', 'number', 'number'],
    result: 'array[number]',
    fn: ([a, b, s]) => {
      const x = bigInt(a, 1), y = bigInt(b, 2), step = bigInt(s, 3);
      if (step <= 0n) throw new BuiltinError('numbers.range_step: step must be a positive number above zero');
      return range('numbers.range_step', x, y, step);
    },
  },
  'rand.intn': {
    name: 'rand.intn',
    args: ['string', 'number'],
    result: 'number',
    nondeterministic: true,
    fn: ([s, n], ctx) => {
      const seed = str(s, 1);
      let bound = int(n, 2);
      if (bound === 0) return 0;
      if (bound < 0) bound = -bound;
      // one answer per (seed, bound) within a query, as OPA guarantees
      const key = `rand.intn\u0000${seed}-${bound}`;
      const hit = ctx.cache.get(key);
      if (hit !== undefined) return hit as number;
      const r = Math.floor(Math.random() * bound);
      ctx.cache.set(key, r);
      return r;
    },
  },
};
