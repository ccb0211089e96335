import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { translateRE2, RegexSyntaxError } from '../src/builtins/re2.js';
import { compileGlob } from '../src/builtins/glob.js';
import { isValidJSON, marshal, parseJSON } from '../src/builtins/json-text.js';
import { renderTemplate } from '../src/builtins/template.js';
import { BuiltinError } from '../src/builtins/registry.js';
import { fromJSON, equal } from '../src/value.js';

const reAlphabet = fc.constantFrom(...'ab\\()[]{}*+?|.^$:=!<>P0123,-ipsQEzAdDwWx'.split(''));

test('RE2 translation either yields a JS RegExp or a RegexSyntaxError', () => {
  fc.assert(fc.property(fc.array(reAlphabet, { maxLength: 14 }).map((a) => a.join('')), (p) => {
    try {
      const t = translateRE2(p);
      new RegExp(t.source, `g${t.flags}`);
    } catch (e) {
      assert.ok(e instanceof RegexSyntaxError, `${JSON.stringify(p)}: ${(e as Error).message}`);
    }
  }), { numRuns: 5000 });
});

test('globs compile to RegExps or BuiltinErrors', () => {
  const alphabet = fc.constantFrom(...'ab.*?[]{},!-\\'.split(''));
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 12 }).map((a) => a.join('')), (p) => {
    try {
      compileGlob(p, ['.']);
    } catch (e) {
      assert.ok(e instanceof BuiltinError, `${JSON.stringify(p)}: ${(e as Error).message}`);
    }
  }), { numRuns: 3000 });
});

test('JSON text round-trips and agrees with JSON.parse on validity', () => {
  fc.assert(fc.property(fc.json(), (text) => {
    const v = parseJSON(text);
    assert.ok(equal(parseJSON(marshal(v)), v));
    assert.ok(equal(v, fromJSON(JSON.parse(text))) || /\d{16,}|e/i.test(text));
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ maxLength: 12 }), (s) => {
    let ok = true;
    try { JSON.parse(s); } catch { ok = false; }
    assert.equal(isValidJSON(s), ok, JSON.stringify(s));
  }), { numRuns: 5000 });
});

test('templates either render or fail with a template error', () => {
  const alphabet = fc.constantFrom('{{', '}}', '.', 'a', ' ', '$', 'x', ':=', 'if', 'end', 'range', 'else', '"', '|', '(', ')', '-');
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 10 }).map((a) => a.join('')), (t) => {
    try {
      renderTemplate(t, fromJSON({ a: [1], x: 'y' }));
    } catch (e) {
      assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError), `${JSON.stringify(t)}: ${(e as Error).message}`);
    }
  }), { numRuns: 3000 });
});
