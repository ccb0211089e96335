import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtins as objects } from '../src/builtins/objects.js';
import { builtins as json } from '../src/builtins/json.js';
import { builtins as encoding } from '../src/builtins/encoding.js';
import { builtins as semver } from '../src/builtins/semver.js';
import { walkPairs } from '../src/builtins/walk.js';
import { parseJSON, marshal } from '../src/builtins/go/json.js';
import type { BuiltinContext, BuiltinTable } from '../src/builtins/registry.js';
import { equal, fromJSON, makeObject, makeSet, type Value } from '../src/value.js';

const ctx = { strict: false, cache: new Map() } as unknown as BuiltinContext;
const call = (t: BuiltinTable, name: string, ...args: Value[]): Value | undefined => t[name].fn(args, ctx);
const v = (x: unknown): Value => fromJSON(x);
const same = (a: Value | undefined, b: Value): void => assert.ok(a !== undefined && equal(a, b), `${marshal(a ?? null)} != ${marshal(b)}`);

test('object.get follows paths through objects, arrays and sets', () => {
  const o = v({ a: [{ b: true }], c: 1 });
  same(call(objects, 'object.get', o, ['a', 0, 'b'], false), true);
  same(call(objects, 'object.get', o, ['a', 1, 'b'], 'd'), 'd');
  same(call(objects, 'object.get', o, 'c', 0), 1);
  same(call(objects, 'object.get', o, [], 0), o);
  same(call(objects, 'object.get', makeObject([['s', makeSet(['x'])]]), ['s', 'x'], 0), 'x');
});

test('object.union merges recursively, union_n folds left to right', () => {
  same(call(objects, 'object.union', v({ a: 1, b: 2, c: { d: 3 } }), v({ a: 7, c: { d: 4, e: 5 } })), v({ a: 7, b: 2, c: { d: 4, e: 5 } }));
  same(call(objects, 'object.union_n', [v({ a: { b: 2 } }), v({ a: 4 }), v({ a: { c: 3 } })]), v({ a: { c: 3 } }));
  assert.throws(() => call(objects, 'object.union_n', [v({}), 'x']), /operand 1 must be array of objects but got array containing string/);
});

test('object.remove / filter / subset', () => {
  same(call(objects, 'object.remove', v({ a: 1, b: 2 }), makeSet(['a'])), v({ b: 2 }));
  same(call(objects, 'object.filter', v({ a: 1, b: 2 }), v({ a: 0 })), v({ a: 1 }));
  assert.throws(() => call(objects, 'object.filter', v({}), 1), /operand 2 must be one of \{object, set, array\} but got number/);
  same(call(objects, 'object.subset', v({ a: 'b', c: { x: [10, 15, 20, 25], y: 'z' } }), v({ c: { x: [15, 20] } })), true);
  same(call(objects, 'object.subset', [1, 2, 3], [1, 3]), false);
  same(call(objects, 'object.subset', [1, 2, 3], makeSet([3, 1])), true);
  assert.throws(() => call(objects, 'object.subset', v({}), [1]), /same type or array and set/);
});

test('json.filter, json.remove and json.patch', () => {
  same(call(json, 'json.filter', v({ a: { b: 'x', c: 'y' } }), ['a/b']), v({ a: { b: 'x' } }));
  same(call(json, 'json.filter', v({ a: [1, 2, 3] }), [['a', '1']]), v({ a: [2] }));
  same(call(json, 'json.remove', v({ a: { b: 'x', c: 'y' } }), makeSet(['/a/b'])), v({ a: { c: 'y' } }));
  same(call(json, 'json.remove', v({ a: [1, 2, 3] }), ['a/0']), v({ a: [2, 3] }));
  assert.throws(() => call(json, 'json.remove', v({}), [1]), /containing string paths or array of path segments but got number/);
  same(call(json, 'json.patch', v({ a: { foo: 1 } }), [v({ op: 'add', path: '/a/bar', value: 2 })]), v({ a: { foo: 1, bar: 2 } }));
  same(call(json, 'json.patch', v({ a: [1, 3] }), [v({ op: 'add', path: '/a/1', value: 2 }), v({ op: 'add', path: '/a/-', value: 4 })]), v({ a: [1, 2, 3, 4] }));
  same(call(json, 'json.patch', v({ a: 1 }), [v({ op: 'move', from: '/a', path: '/b' }), v({ op: 'copy', from: '/b', path: '/c' })]), v({ b: 1, c: 1 }));
  same(call(json, 'json.patch', v({ a: 1 }), [v({ op: 'replace', path: '', value: 5 })]), 5);
  assert.equal(call(json, 'json.patch', v({ a: 1 }), [v({ op: 'test', path: '/a', value: 2 })]), undefined);
  assert.equal(call(json, 'json.patch', v({ a: 1 }), [v({ op: 'remove', path: '/x' })]), undefined);
});

test('JSON text: exact numbers, Go escaping and indentation', () => {
  same(parseJSON('{"a":[1,12345678901234567890123,1.5e2,"<x>"]}'), makeObject([['a', [1, 12345678901234567890123n, 150, '<x>']]]));
  assert.throws(() => parseJSON('[1,2'), /unexpected end of JSON input/);
  assert.throws(() => parseJSON('{"a" 1}'), /invalid character '1' after object key/);
  assert.equal(parseJSON('['.repeat(100000) + ']'.repeat(100000)) !== undefined, true);
  assert.equal(marshal(v({ b: '<&>', a: [makeSet([2, 1])] })), '{"a":[[1,2]],"b":"\\u003c\\u0026\\u003e"}');
  assert.equal(call(encoding, 'json.marshal_with_options', v({ foo: 'bar', bar: 'baz' }), v({ prefix: 'JSON => ' })),
    'JSON => {\nJSON => \t"bar": "baz",\nJSON => \t"foo": "bar"\nJSON => }');
  assert.equal(call(encoding, 'json.marshal_with_options', [], v({ indent: '  ' })), '[]');
  assert.throws(() => call(encoding, 'json.marshal_with_options', [], v({ x: true })), /object contained unknown key "x"/);
  assert.equal(call(encoding, 'json.is_valid', '{"a":'), false);
  assert.equal(call(encoding, 'json.is_valid', 5), false);
});

test('base64, hex and urlquery codecs', () => {
  assert.equal(call(encoding, 'base64.encode', 'subjects?_d'), 'c3ViamVjdHM/X2Q=');
  assert.equal(call(encoding, 'base64.decode', 'aGVsbG8='), 'hello');
  assert.throws(() => call(encoding, 'base64.decode', 'aGVsbG8'), /illegal base64 data/);
  assert.equal(call(encoding, 'base64.is_valid', 'YQ=='), true);
  assert.equal(call(encoding, 'base64.is_valid', 'Y!=='), false);
  assert.equal(call(encoding, 'base64url.encode', 'subjects?_d'), 'c3ViamVjdHM_X2Q=');
  assert.equal(call(encoding, 'base64url.encode_no_pad', 'subjects?_d'), 'c3ViamVjdHM_X2Q');
  assert.equal(call(encoding, 'base64url.decode', 'c3ViamVjdHM_X2Q'), 'subjects?_d');
  assert.equal(call(encoding, 'hex.encode', 'lorem'), '6c6f72656d');
  assert.equal(call(encoding, 'hex.decode', '6c6f72656d'), 'lorem');
  assert.throws(() => call(encoding, 'hex.decode', 'fghijkl'), /invalid byte: U\+0067 'g'/);
  assert.equal(call(encoding, 'urlquery.encode', 'a=b+1 ~é'), 'a%3Db%2B1+~%C3%A9');
  assert.equal(call(encoding, 'urlquery.decode', 'a%3Db%2B1+x'), 'a=b+1 x');
  assert.throws(() => call(encoding, 'urlquery.decode', '%zz'), /invalid URL escape "%zz"/);
  assert.equal(call(encoding, 'urlquery.encode_object', v({ c: 'd', a: ['b+1', 'c+2'] })), 'a=b%2B1&a=c%2B2&c=d');
  same(call(encoding, 'urlquery.decode_object', 'a=1&b&a=2'), v({ a: ['1', '2'], b: [''] }));
});

test('yaml round trip and go-yaml style errors', () => {
  const y = call(encoding, 'yaml.marshal', [v({ foo: makeSet([1, 2, 3]) })]) as string;
  assert.equal(y, '- foo:\n  - 1\n  - 2\n  - 3\n');
  same(call(encoding, 'yaml.unmarshal', y), v([{ foo: [1, 2, 3] }]));
  assert.throws(() => call(encoding, 'yaml.unmarshal', '[1,2,3'), /yaml: line 1: did not find/);
  assert.equal(call(encoding, 'yaml.is_valid', 'a: [1'), false);
  assert.equal(call(encoding, 'yaml.is_valid', 'a: 1'), true);
});

test('semver and walk', () => {
  assert.equal(call(semver, 'semver.is_valid', '1.0.0-rc.1+build'), true);
  assert.equal(call(semver, 'semver.is_valid', '1'), false);
  assert.equal(call(semver, 'semver.compare', '1.0.0-alpha.1', '1.0.0-alpha.beta'), -1);
  assert.equal(call(semver, 'semver.compare', '1.0.0', '1.0.0-rc.1'), 1);
  assert.throws(() => call(semver, 'semver.compare', '1', '1.0.0'), /operand 1: string "1" is not a valid SemVer/);
  const pairs = walkPairs(v({ a: [1] }));
  same(pairs as Value, [[[], v({ a: [1] })], [['a'], [1]], [['a', 0], 1]]);
});
