import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { translateRE2, RegexSyntaxError } from '../src/builtins/go/re2.js';
import { compileGlob } from '../src/builtins/glob.js';
import { isValidJSON, marshal, parseJSON } from '../src/builtins/go/json.js';
import { renderTemplate } from '../src/builtins/go/template.js';
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

test('the V8 translation matches exactly what Go\'s regexp (re2js) matches', () => {
  const atom = fc.constantFrom('a', 'b', 'A', '1', ' ', '.', '[ab]', '[^a]', '\\d', '\\w', '\\s', '\\W', '\\D', '[[:alpha:]]', '[[:^digit:]]',
    '\\b', '\\B', '^', '$', '\\z', '\\A', '[a-b]', '\\.', '\\pL', '\\p{Lu}', '(?i:a)', '_', '-', '[^\\s]', '\\S', '(?s:.)', '(?-i:a)',
    '\\Qa.\\E', '\\x41', '\\101', '[\\x41-\\x{62}]', '(?P<n>a|b)', '(a(b)?)', '(?:a|)', 'É', '[\\n]', '(?m:^)', '(?m:$)');
  const quant = fc.constantFrom('', '', '', '?', '*', '+', '{1,2}', '*?', '+?', '??', '{2,}', '{0}', '{2}');
  const piece = fc.tuple(atom, quant).map(([a, q]) => (/^[\^$]|\\[bBAz]$|^\(\?m:/.test(a) ? a : a + q));
  const seq = fc.array(piece, { minLength: 1, maxLength: 4 }).map((xs) => xs.join(''));
  const pattern = fc.tuple(fc.constantFrom('', '(?i)', '(?s)', '(?m)', '(?U)'), seq, fc.option(seq), fc.boolean())
    .map(([f, a, b, grp]) => { const body = b === null ? a : `${a}|${b}`; return f + (grp ? `(${body})` : body); });
  const text = fc.array(fc.constantFrom('a', 'A', 'b', '1', ' ', '\n', '_', '-', '.', 'é', 'É'), { maxLength: 8 }).map((x) => x.join(''));
  const show = (m: RegExpExecArray | null): string => (m ? `${m.index}:${m.index + m[0].length}:${Array.from(m).slice(1).map((g) => g ?? '~').join(',')}` : 'none');
  fc.assert(fc.property(pattern, text, (p, s) => {
    let t;
    try {
      t = translateRE2(p);
    } catch {
      return; // patterns the translator leaves out run on re2js
    }
    if (!t.exact) return; // such patterns always run on re2js
    const js = new RegExp(t.source, `g${t.flags}`);
    const m = RE2JS.compile(p).matcher(s);
    for (let pos = 0; pos <= s.length; pos++) {
      js.lastIndex = pos;
      const got = show(js.exec(s));
      const want = m.find(pos) ? `${m.start()}:${m.end()}:${Array.from({ length: m.groupCount() }, (_, i) => m.group(i + 1) ?? '~').join(',')}` : 'none';
      assert.equal(got, want, `${JSON.stringify(p)} on ${JSON.stringify(s)} from ${pos}`);
    }
  }), { numRuns: 3000 });
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
