import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseModule, parseQuery, RegoError } from '../src/index.js';

function onlyParseErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RegoError, `threw ${String(e)}`);
    assert.equal(e.code, 'rego_parse_error');
  }
}

const tokens = ['package', 'p', 'import', 'data', 'input', 'if', 'contains', 'in', 'every', 'some', 'not', 'with', 'as', 'else', 'default',
  ':=', '=', '==', '{', '}', '[', ']', '(', ')', '.', ',', ';', '|', '&', '+', '-', '*', '/', '"s"', '`r`', '$"t{x}"', '1', '1.5e3', 'true', 'null', '\n', ' ', '#c\n', 'x', '_'];

test('parser on arbitrary strings throws only rego_parse_error', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
    onlyParseErrors(() => parseModule(s, 'fuzz.rego', 'v1'));
    onlyParseErrors(() => parseModule(`package x\n${s}`, 'fuzz.rego', 'v0'));
    onlyParseErrors(() => parseQuery(s));
  }), { numRuns: 2000 });
});

test('parser on arbitrary bytes throws only rego_parse_error', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    const s = Buffer.from(bytes).toString('latin1');
    onlyParseErrors(() => parseModule(s, 'fuzz.rego'));
  }), { numRuns: 1000 });
});

test('parser on token soup throws only rego_parse_error', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 60 }), (ts) => {
    const s = ts.join(' ');
    onlyParseErrors(() => parseModule(`package x\n${s}`, 'fuzz.rego', 'v1'));
    onlyParseErrors(() => parseModule(`package x\n${s}`, 'fuzz.rego', 'v0'));
    onlyParseErrors(() => parseQuery(s));
  }), { numRuns: 3000 });
});

test('deeply nested input to the parser is a parse error, not a crash', () => {
  onlyParseErrors(() => parseQuery('['.repeat(100_000)));
  onlyParseErrors(() => parseQuery(`x := ${'['.repeat(5000)}1${']'.repeat(5000)}`));
});
