import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '@oagf/ledger';

test('RFC 8785 §3.2.2 sorting example', () => {
  const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
  assert.equal(
    canonicalJson(input),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
});

test('RFC 8785 §3.2.3 example and number forms', () => {
  const input = { numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001], string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/', literals: [null, true, false] };
  assert.equal(
    canonicalJson(input),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
  assert.equal(canonicalJson(-0), '0');
  assert.equal(canonicalJson(1e21), '1e+21');
  assert.equal(canonicalJson(1e-7), '1e-7');
  assert.equal(canonicalJson({ b: [], a: {} }), '{"a":{},"b":[]}');
});

test('rejects what I-JSON cannot carry', () => {
  assert.throws(() => canonicalJson(NaN), /NaN/);
  assert.throws(() => canonicalJson({ a: [1, Infinity] }), /\$\.a\[1\] is Infinity/);
  assert.throws(() => canonicalJson({ a: undefined }), /\$\.a is undefined/);
  assert.throws(() => canonicalJson([undefined]), /undefined/);
  assert.throws(() => canonicalJson({ big: 1n }), /bigint/);
  assert.throws(() => canonicalJson({ s: '\ud800' }), /lone surrogate/);
  assert.throws(() => canonicalJson({ d: new Date(0) }), /Date object/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalJson(cyclic), /cycle/);
  const shared = { x: 1 };
  assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
});

/** JCS by its definition, for plain JSON data: keys sorted by UTF-16 code units, JSON.stringify's strings and numbers. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

test('objects in or out of order, array-index and __proto__ keys, strings verbatim or escaped, deep nesting: all canonical', () => {
  let deep: unknown = { z: 1, a: 'end' };
  for (let i = 0; i < 100; i++) deep = { next: deep, at: i, list: [i, { b: true, a: null }] };
  const cases: unknown[] = [
    { v: 1, type: 'decision', id: 'x', data: { surface: 'openai', target: { path: '/v1', model: 'm' } }, reasons: ['a', 'b'] },
    { a: 1, b: { c: [1, 2, { e: 'é', d: '\ud83d\ude00' }] } },
    { '10': 'ten', '9': 'nine', '1': 'one', b: 'b', a: 'a' },
    { x: { '2': [], '10': {} } },
    JSON.parse('{"b":1,"__proto__":{"polluted":true},"a":2}'),
    Object.assign(Object.create(null), { b: 1, a: { d: 2, c: 3 } }),
    [{ b: 1, a: 2 }, [], {}, 'plain', 0.1, -0, null],
    { s: 'quote " back \\ nl \n tab \t \u0000 \u001f \u007f \u2028 \ud83d\ude00 é', '\n': 'key' },
    deep,
  ];
  for (const value of cases) assert.equal(canonicalJson(value), reference(value));
  assert.equal(canonicalJson(JSON.parse('{"__proto__":1}')), '{"__proto__":1}');
  const input = { b: 1, a: { d: 2, c: 3 } };
  canonicalJson(input);
  assert.deepEqual(Object.keys(input), ['b', 'a'], 'the input is not reordered');
});
