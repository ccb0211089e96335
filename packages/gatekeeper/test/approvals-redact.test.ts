import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../src/redact.js';

test('built-in secret formats are redacted wherever they appear in text', () => {
  const r = new Redactor();
  const cases: [string, string][] = [
    ['use sk-proj-abcdefghijklmnop1234 please', 'use [REDACTED] please'],
    ['Authorization: Bearer eyJhbGciOi.abc-def_ghi', 'Authorization: Bearer [REDACTED]'],
    ['basic dXNlcjpwYXNz', 'basic [REDACTED]'],
    ['token ghp_abcdefghijklmnopqrstuvwxyz0123', 'token [REDACTED]'],
    ['slack xoxb-1234567890-abcdef', 'slack [REDACTED]'],
    ['aws AKIAABCDEFGHIJKLMNOP here', 'aws [REDACTED] here'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz end', 'jwt [REDACTED] end'],
    ['-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----', '[REDACTED]'],
  ];
  for (const [input, want] of cases) assert.equal(r.text(input), want, input);
  assert.equal(r.text('nothing secret: sk-short, order 2400000'), 'nothing secret: sk-short, order 2400000');
});

test('values under credential-looking keys are replaced; the input is not changed; configured patterns apply', () => {
  const r = new Redactor(['ACME-[0-9]{6}']);
  const input = { headers: { Authorization: 'x', 'X-Api-Key': 'y' }, password: 'hunter2', note: 'ref ACME-123456', list: ['sk-abcdefghijklmnopqrstu'], token: '', n: 5 };
  const out = r.value(input);
  assert.deepEqual(out, { headers: { Authorization: '[REDACTED]', 'X-Api-Key': '[REDACTED]' }, password: '[REDACTED]', note: 'ref [REDACTED]', list: ['[REDACTED]'], token: '', n: 5 });
  assert.equal(input.password, 'hunter2');
});

test('a configured pattern that is not a regular expression is a start-up error naming it', () => {
  assert.throws(() => new Redactor(["(unclosed"]), /^Error: redact\.patterns: invalid regular expression "\(unclosed"/);
});

test('a frozen value found clean is remembered; a mutable part inside it is tested again every time', () => {
  const r = new Redactor();
  const form = Object.freeze({ kind: 'llm.tool_call', target: Object.freeze({ tool: 'lookup_stock' }), labels: Object.freeze([Object.freeze({ label: 'untrusted' })]) });
  const payload = { session: { refs: Object.freeze(['1:ab']), added: { '1:ab': form } } };
  assert.equal(r.scrub(payload).count, 0);
  assert.equal(r.scrub(payload).count, 0, 'the remembered forms still count as clean');
  // Frozen at the top, but with a mutable part: a secret written into it later is found.
  const mutable: { note: string } = { note: 'nothing yet' };
  const shell = Object.freeze({ inner: mutable });
  assert.equal(r.scrub(shell).count, 0);
  mutable.note = 'key sk-proj-abcdefghijklmnop1234';
  assert.deepEqual(r.scrub(shell), { value: { inner: { note: 'key [REDACTED]' } }, count: 1 });
  // A frozen value with a secret is never remembered as clean.
  const secret = Object.freeze({ password: 'hunter2' });
  assert.equal(r.scrub(secret).count, 1);
  assert.equal(r.scrub(secret).count, 1);
});
