/** bits.* builtins on integers of any size (Go big.Int semantics; BigInt shifts are arithmetic). */
import { numFromJS } from '../num.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { bigInt, operandErr } from './operands.js';

/** Shifts beyond this many bits are refused: huge integers cost seconds to compute and print. */
const MAX_SHIFT = 1n << 16n;

function shiftCount(v: Parameters<typeof bigInt>[0]): bigint {
  const s = bigInt(v, 2);
  if (s < 0n) throw operandErr(2, 'must be an unsigned integer number but got a negative integer');
  return s;
}

export const builtins: BuiltinTable = {
  'bits.or': { name: 'bits.or', args: ['number', 'number'], result: 'number', fn: ([a, b]) => numFromJS(bigInt(a, 1) | bigInt(b, 2)) },
  'bits.and': { name: 'bits.and', args: ['number', 'number'], result: 'number', fn: ([a, b]) => numFromJS(bigInt(a, 1) & bigInt(b, 2)) },
  'bits.xor': { name: 'bits.xor', args: ['number', 'number'], result: 'number', fn: ([a, b]) => numFromJS(bigInt(a, 1) ^ bigInt(b, 2)) },
  'bits.negate': { name: 'bits.negate', args: ['number'], result: 'number', fn: ([a]) => numFromJS(~bigInt(a, 1)) },
  'bits.lsh': {
    name: 'bits.lsh',
    args: ['number', 'number'],
    result: 'number',
    fn: ([a, b]) => {
      const x = bigInt(a, 1), s = shiftCount(b);
      if (s > MAX_SHIFT && x !== 0n) throw new BuiltinError(`shift of ${s} bits exceeds the limit of ${MAX_SHIFT}`);
      return numFromJS(x << s);
    },
  },
  'bits.rsh': {
    name: 'bits.rsh',
    args: ['number', 'number'],
    result: 'number',
    fn: ([a, b]) => {
      const x = bigInt(a, 1), s = shiftCount(b);
      if (s > MAX_SHIFT) return numFromJS(x < 0n ? -1n : 0n);
      return numFromJS(x >> s);
    },
  },
};
