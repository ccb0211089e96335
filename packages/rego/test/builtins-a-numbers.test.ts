import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtins as aggregates } from '../src/builtins/aggregates.js';
import { builtins as numbers } from '../src/builtins/numbers.js';
import { builtins as bits } from '../src/builtins/bits.js';
import { builtins as units } from '../src/builtins/units.js';
import { builtins as types } from '../src/builtins/types.js';
import { builtins as arrays } from '../src/builtins/arrays.js';
import { builtins as sets } from '../src/builtins/sets.js';
import { builtins as graph } from '../src/builtins/graph.js';
import { BuiltinError, OperandTypeError, type BuiltinContext, type BuiltinTable } from '../src/builtins/registry.js';
import { numToString } from '../src/num.js';
import { fromJSON, jsonText, makeSet, type Value } from '../src/value.js';

const ctx = { strict: false, cache: new Map() } as unknown as BuiltinContext;
const call = (t: BuiltinTable, name: string, ...args: Value[]): Value | undefined => t[name].fn(args, ctx);
const text = (v: Value | undefined): string => (v === undefined ? 'undefined' : jsonText(v));

test('aggregates', () => {
  assert.equal(call(aggregates, 'count', 'héllo'), 5);
  assert.throws(() => call(aggregates, 'count', null), /operand 1 must be one of \{array, object, set, string\} but got null/);
  assert.equal(text(call(aggregates, 'sum', [49649733057, 1])), '49649733058');
  assert.equal(text(call(aggregates, 'sum', [9007199254740993n, 1])), '9007199254740994');
  assert.equal(text(call(aggregates, 'product', makeSet([1, 2, 3, 4]))), '24');
  assert.equal(text(call(aggregates, 'sum', [0.5, 1])), '1.5');
  assert.throws(() => call(aggregates, 'sum', [1, 'a']), /operand 1 must be array of numbers but got array containing string/);
  assert.equal(call(aggregates, 'max', [1, 'a', null]), 'a');
  assert.equal(call(aggregates, 'min', [3, 2, -7, 10]), -7);
  assert.equal(call(aggregates, 'max', []), undefined);
  assert.equal(text(call(aggregates, 'sort', [3, 'a', 1, null])), '[null,1,3,"a"]');
  assert.equal(call(aggregates, 'all', [true, true]), true);
  assert.equal(call(aggregates, 'any', makeSet([false, 1])), false);
});

test('rounding, ranges and rand.intn', () => {
  assert.equal(call(numbers, 'round', -2.5), -3);
  assert.equal(call(numbers, 'round', 2.5), 3);
  assert.equal(call(numbers, 'ceil', 1.2), 2);
  assert.equal(call(numbers, 'floor', -1.2), -2);
  assert.equal(call(numbers, 'abs', -3), 3);
  assert.equal(text(call(numbers, 'numbers.range', 3, 1)), '[3,2,1]');
  assert.equal(text(call(numbers, 'numbers.range_step', 0, 10, 4)), '[0,4,8]');
  assert.throws(() => call(numbers, 'numbers.range_step', 0, 10, 0), /step must be a positive number above zero/);
  assert.throws(() => call(numbers, 'numbers.range', 1.5, 2), /operand 1 must be integer number but got floating-point number/);
  assert.throws(() => call(numbers, 'numbers.range', 0, 1e12), BuiltinError);
  const ctx2 = { cache: new Map() } as unknown as BuiltinContext;
  const r = numbers['rand.intn'].fn(['seed', 1000], ctx2);
  assert.equal(numbers['rand.intn'].fn(['seed', -1000], ctx2), r, 'same answer for the same key within a query');
  assert.equal(numbers['rand.intn'].fn(['seed', 0], ctx2), 0);
});

test('bits on integers of any size', () => {
  assert.equal(call(bits, 'bits.or', 12, 10), 14);
  assert.equal(call(bits, 'bits.and', 12, 10), 8);
  assert.equal(call(bits, 'bits.xor', 12, 10), 6);
  assert.equal(call(bits, 'bits.negate', 5), -6);
  assert.equal(text(call(bits, 'bits.lsh', 1, 64)), '18446744073709551616');
  assert.equal(call(bits, 'bits.rsh', -8, 1), -4);
  assert.throws(() => call(bits, 'bits.lsh', 1, -1), /operand 2 must be an unsigned integer number but got a negative integer/);
  assert.throws(() => call(bits, 'bits.or', 1.5, 1), /operand 1 must be integer number but got floating-point number/);
});

test('units.parse and units.parse_bytes are exact', () => {
  const p = (s: string): string => numToString(call(units, 'units.parse', s) as never);
  const b = (s: string): string => numToString(call(units, 'units.parse_bytes', s) as never);
  assert.equal(p('500m'), '0.5');
  assert.equal(p('1.1Ki'), '1126.4');
  assert.equal(p('10Ei'), '11529215046068469760');
  assert.equal(p('-3.5E2m'), '-0.35');
  assert.equal(p('5E'), '5000000000000000000');
  assert.equal(b('1.1KiB'), '1126');
  assert.equal(b('1e-2KB'), '10');
  assert.equal(b('"100TIB"'), '109951162777600');
  assert.throws(() => call(units, 'units.parse', 'G'), /units.parse: no amount provided/);
  assert.throws(() => call(units, 'units.parse', '0.0.0'), /could not parse amount to a number/);
  assert.throws(() => call(units, 'units.parse_bytes', ' 327MiB '), /spaces not allowed/);
  assert.throws(() => call(units, 'units.parse_bytes', '1xb'), /byte unit xb not recognized/);
  assert.throws(() => call(units, 'units.parse', '1e1234567'), /exponent too large/);
});

test('types, casts and to_number', () => {
  assert.equal(call(types, 'type_name', makeSet([])), 'set');
  assert.equal(call(types, 'is_number', 1n), true);
  assert.equal(call(types, 'is_string', 1), false);
  assert.equal(text(call(types, 'to_number', '-42.0')), '-42');
  assert.equal(text(call(types, 'to_number', '.5')), '0.5');
  assert.equal(text(call(types, 'to_number', '12345678901234567890')), '12345678901234567890');
  assert.throws(() => call(types, 'to_number', 'broken'), /invalid syntax/);
  assert.throws(() => call(types, 'to_number', '-Inf'), OperandTypeError);
  assert.equal(text(call(types, 'cast_array', makeSet([2, 1]))), '[1,2]');
  assert.throws(() => call(types, 'cast_string', 1), /operand 1 must be string but got number/);
});

test('arrays, sets and graphs', () => {
  assert.equal(text(call(arrays, 'array.slice', [1, 2, 3, 4], -1, 2)), '[1,2]');
  assert.equal(text(call(arrays, 'array.slice', [1, 2, 3], 2, 1)), '[]');
  assert.equal(text(call(arrays, 'array.reverse', [1, 2, 3])), '[3,2,1]');
  assert.equal(text(call(sets, 'intersection', makeSet([makeSet([1, 2]), makeSet([2, 3])]))), '[2]');
  assert.equal(text(call(sets, 'union', makeSet([makeSet([1]), makeSet([2])]))), '[1,2]');
  assert.throws(() => call(sets, 'union', makeSet([1])), /operand 1 must be set but got number/);
  const g = fromJSON({ a: ['b'], b: ['c'], c: ['a'], d: [] });
  assert.equal(text(call(graph, 'graph.reachable', g, ['a'])), '["a","b","c"]');
  assert.equal(text(call(graph, 'graph.reachable_paths', g, ['a', 'd'])), '[["a","b","c"],["d"]]');
});
