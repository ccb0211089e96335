/** array.concat, array.slice, array.reverse. */
import type { BuiltinTable } from './registry.js';
import { arr, int } from './operands.js';

export const builtins: BuiltinTable = {
  'array.concat': {
    name: 'array.concat',
    args: ['array', 'array'],
    result: 'array',
    fn: ([a, b]) => {
      const x = arr(a, 1), y = arr(b, 2);
      return x.length === 0 ? y : y.length === 0 ? x : x.concat(y);
    },
  },
  'array.slice': {
    name: 'array.slice',
    args: ['array', 'number', 'number'],
    result: 'array',
    fn: ([a, s, e]) => {
      const xs = arr(a, 1);
      let start = int(s, 2), stop = int(e, 3);
      stop = stop < 0 ? 0 : Math.min(stop, xs.length);
      start = start < 0 ? 0 : Math.min(start, stop);
      return xs.slice(start, stop);
    },
  },
  'array.reverse': {
    name: 'array.reverse',
    args: ['array'],
    result: 'array',
    fn: ([a]) => [...arr(a, 1)].reverse(),
  },
};
