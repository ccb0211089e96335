import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtins as strings } from '../src/builtins/strings.js';
import { builtins as regex } from '../src/builtins/regex.js';
import { builtins as glob } from '../src/builtins/glob.js';
import { sprintf } from '../src/builtins/go/sprintf.js';
import { BuiltinError, OperandTypeError, type BuiltinContext, type BuiltinTable } from '../src/builtins/registry.js';
import { makeObject, makeSet, type Value } from '../src/value.js';

const ctx = { strict: false, cache: new Map() } as unknown as BuiltinContext;
const call = (t: BuiltinTable, name: string, ...args: Value[]): Value | undefined => t[name].fn(args, ctx);

test('sprintf follows Go fmt for OPA argument types', () => {
  assert.equal(sprintf('hi %02X.%02X', [127, 1]), 'hi 7F.01');
  assert.equal(sprintf('hi %.2f', [3.1415]), 'hi 3.14');
  assert.equal(sprintf('hi %02d', [5]), 'hi 05');
  assert.equal(sprintf('hi %v', [['there', 5, 3.14]]), 'hi ["there", 5, 3.14]');
  assert.equal(sprintf('hi %s', [true]), 'hi true');
  assert.equal(sprintf('%s', [123456789123456789123n]), '123456789123456789123');
  assert.equal(sprintf('%s', [2n * 10n ** 308n]), '2e308');
  assert.equal(sprintf('%d|%s', [5, 5]), '5|%!s(int=5)');
  assert.equal(sprintf('%v %v %v', [1e6, 0.000001, 123456789.5]), '1000000 1e-06 1.234567895e+08');
  assert.equal(sprintf('%e %g %.3g', [123.456, 0.00001234, 3.14159]), '1.234560e+02 1.234e-05 3.14');
  assert.equal(sprintf('%5d|%-5d|%+d|%x|%q', [42, 42, 3, 255, 'a"b']), '   42|42   |+3|ff|"a\\"b"');
  assert.equal(sprintf('%d %d', [1]), '1 %!d(MISSING)');
  assert.equal(sprintf('x', [1]), 'x%!(EXTRA int=1)');
  assert.equal(sprintf('100%%', []), '100%');
  assert.equal(sprintf('%T %T %T|%#v', [1, 'a', 1.5, 'x']), 'int string float64|"x"');
});

test('string positions count runes', () => {
  assert.equal(call(strings, 'indexof', 'héllo', 'l'), 2);
  assert.deepEqual(call(strings, 'indexof_n', 'aéaéa', 'a'), [0, 2, 4]);
  assert.equal(call(strings, 'substring', 'héllo', 1, 2), 'él');
  assert.equal(call(strings, 'substring', 'abc', 1, -1), 'bc');
  assert.throws(() => call(strings, 'substring', 'abc', -1, 1), BuiltinError);
  assert.equal(call(strings, 'strings.reverse', 'a😀b'), 'b😀a');
  assert.deepEqual(call(strings, 'split', 'a😀', ''), ['a', '😀']);
  assert.equal(call(strings, 'strings.count', 'cheese', 'e'), 3);
  assert.equal(call(strings, 'strings.count', 'five', ''), 5);
});

test('replace and replace_n follow Go strings.Replacer', () => {
  assert.equal(call(strings, 'replace', 'abc', '', '-'), '-a-b-c-');
  assert.equal(call(strings, 'replace', 'aaa', 'a', 'b'), 'bbb');
  assert.equal(call(strings, 'strings.replace_n', makeObject([['a', '1'], ['ab', '2']]), 'abab'), '1b1b');
  assert.throws(() => call(strings, 'strings.replace_n', makeObject([[1, 'x']]), 'a'), /operand 1 non-string key found in pattern object/);
});

test('trim family, case mapping, format_int, concat', () => {
  assert.equal(call(strings, 'trim', '..a.b..', '.'), 'a.b');
  assert.equal(call(strings, 'trim_left', '..a..', '.'), 'a..');
  assert.equal(call(strings, 'trim_right', '..a..', '.'), '..a');
  assert.equal(call(strings, 'trim_suffix', 'a.rego', '.rego'), 'a');
  assert.equal(call(strings, 'trim_space', ' \u00a0x\n\t'), 'x');
  assert.equal(call(strings, 'upper', 'straße'), 'STRAßE');
  assert.equal(call(strings, 'lower', 'İSTANBUL'), 'istanbul');
  assert.equal(call(strings, 'format_int', -255, 16), '-ff');
  assert.equal(call(strings, 'format_int', 3.9, 2), '11');
  assert.throws(() => call(strings, 'format_int', 3, 3), /operand 2 must be one of \{2, 8, 10, 16\}/);
  assert.equal(call(strings, 'concat', '/', makeSet(['b', 'a'])), 'a/b');
  assert.throws(() => call(strings, 'concat', '/', ['a', 1]), /operand 2 must be array of strings but got array containing number/);
  assert.equal(call(strings, 'strings.any_prefix_match', ['foo', 'bar'], makeSet(['ba'])), true);
  assert.equal(call(strings, 'strings.any_suffix_match', 'foo', ['x', 'oo']), true);
  assert.throws(() => call(strings, 'strings.any_prefix_match', 1, 'a'), OperandTypeError);
});

test('regexes use RE2 syntax and Go match semantics', () => {
  assert.equal(call(regex, 'regex.match', '^[a-z]+\\[[0-9]+\\]$', 'abc[1]'), true);
  assert.equal(call(regex, 'regex.match', '(?i)ABC', 'xabcx'), true);
  assert.equal(call(regex, 'regex.match', 'a.c', 'a\rc'), true, 'Go dot matches \\r');
  assert.equal(call(regex, 'regex.match', '^a$', 'a\n'), false, '$ is end of text without m');
  assert.equal(call(regex, 'regex.match', '(?m)^b$', 'a\nb\nc'), true);
  assert.equal(call(regex, 'regex.match', '(?P<x>a)\\z', 'a'), true);
  assert.equal(call(regex, 'regex.match', '\\s', '\u00a0'), false, '\\s is ASCII in RE2');
  assert.equal(call(regex, 'regex.match', '[[:alpha:]]+\\d', 'ab1'), true);
  assert.equal(call(regex, 'regex.is_valid', '++'), false);
  assert.equal(call(regex, 'regex.is_valid', 'a(?=b)'), false, 'no lookahead in RE2');
  assert.equal(call(regex, 'regex.is_valid', '(a)\\1'), false, 'no backreferences in RE2');
  assert.equal(call(regex, 'regex.is_valid', 'a{1001}'), false);
  assert.equal(call(regex, 'regex.is_valid', 10), false);
  assert.throws(() => call(regex, 'regex.match', 'a**', 'a'), /invalid nested repetition operator: `\*\*`/);
  assert.deepEqual(call(regex, 'regex.split', 'a', 'banana'), ['b', 'n', 'n', '']);
  assert.deepEqual(call(regex, 'regex.split', 'x', ''), ['']);
  assert.deepEqual(call(regex, 'regex.find_n', 'a.', 'paranormal', 2), ['ar', 'an']);
  assert.deepEqual(call(regex, 'regex.find_n', 'a*', 'baaab', -1), ['', 'aaa', '']);
  assert.deepEqual(call(regex, 'regex.find_all_string_submatch_n', '[^aouiye]([aouiye])([^aouiye])?', 'somestri', -1), [['som', 'o', 'm'], ['ri', 'i', '']]);
  assert.equal(call(regex, 'regex.replace', '-wy-wxxy-', 'w(x*)y', '<$1>'), '-<>-<xx>-');
  assert.equal(call(regex, 'regex.replace', 'foo', '(?P<n>o)', '${n}$$'), 'fo$o$');
  assert.equal(call(regex, 'regex.template_match', 'urn:foo:{.*}', 'urn:foo:bar:baz', '{', '}'), true);
  assert.equal(call(regex, 'regex.template_match', 'urn:foo.<[0-9]+>', 'urn:fooX12', '<', '>'), false);
});

test('patterns that could backtrack catastrophically run on RE2 automata', { timeout: 60_000 }, () => {
  const hostile = 'a'.repeat(20_000) + 'b';
  assert.equal(call(regex, 'regex.match', '(a+)+$', hostile), false);
  assert.equal(call(regex, 'regex.match', '^(a|aa)*c$', hostile), false);
  assert.deepEqual(call(regex, 'regex.find_n', '(x+x+)+y', 'x'.repeat(5000), -1), []);
  assert.equal(call(regex, 'regex.replace', 'xaab', '(a+)+b', '[$1]'), 'x[aa]');
});

test('regex.globs_match decides intersection of glob-style regexes', () => {
  assert.equal(call(regex, 'regex.globs_match', 'a.a.[0-9]+z', '.b.b2359825792*594823z'), true);
  assert.equal(call(regex, 'regex.globs_match', '[a-z]+', '[0-9]*'), false);
  assert.equal(call(regex, 'regex.globs_match', '[a-z]+\\[[0-9]+\\]', 'foo\\[1\\]'), true);
  assert.equal(call(regex, 'regex.globs_match', '[a-z]+\\[[0-9]+\\]', 'foo["bar"]'), false);
  assert.throws(() => call(regex, 'regex.globs_match', 'pqrs]', '[a-b]+'), /input:pqrs\], pos:5, set-close/);
});

test('glob.match with delimiters', () => {
  const m = (p: string, d: Value, s: string): Value | undefined => call(glob, 'glob.match', p, d, s);
  assert.equal(m('*.github.com', ['.'], 'api.github.com'), true);
  assert.equal(m('*.github.com', ['.'], 'api.cdn.github.com'), false);
  assert.equal(m('api.**.com', ['.'], 'api.cdn.github.com'), true);
  assert.equal(m('*', [], 'foo.bar'), false);
  assert.equal(m('*', null, 'foo.bar'), true);
  assert.equal(m('[!a-c]at', [], 'fat'), true);
  assert.equal(m('?at', ['f'], 'fat'), false);
  assert.equal(m('{cat,bat,[fr]at}', [], 'rat'), true);
  assert.equal(m('{cat,bat,[fr]at}', [], 'at'), false);
  assert.equal(m('a-b\\*', [], 'a-b*'), true);
  assert.throws(() => m('*', 'x', 'a'), /operand 2 must be one of \{array, null\} but got string/);
  assert.equal(call(glob, 'glob.quote_meta', '*.github.com'), '\\*.github.com');
});
