import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load } from '../src/cli.js';
import { runTests } from '../src/tester.js';
import { compile } from '../src/index.js';

const dir = fileURLToPath(new URL('./v0-policies/', import.meta.url));

test('rego test runs the v0 Gatekeeper-library and Trivy-style suites', () => {
  const l = load([dir]);
  const rs = runTests({ modules: l.modules, data: l.data, regoVersion: 'v0' });
  assert.equal(rs.length, 9);
  for (const r of rs) assert.ok(r.passed, `${r.name} failed ${r.error ?? ''}`);
});

test('v0 partial set and object rules, default, else', () => {
  const policy = compile({
    regoVersion: 'v0',
    modules: {
      'a.rego': `package a
default allow = false
allow { input.user == "admin" }
deny[msg] { input.user == "eve"; msg := "eve is banned" }
roles[u] = r { r := data.roles[u] }
level = "high" { input.n > 10 } else = "low" { true }
`,
    },
    data: { roles: { alice: 'dev', bob: 'ops' } },
  });
  const q = policy.prepare('data.a');
  const r = q.eval({ input: { user: 'eve', n: 3 } }).results[0].expressions[0].value;
  assert.deepEqual(r, { allow: false, deny: ['eve is banned'], roles: { alice: 'dev', bob: 'ops' }, level: 'low' });
});

test('v1 syntax is rejected in v0 modules without the keyword imports, accepted with import rego.v1', () => {
  assert.throws(() => compile({ regoVersion: 'v0', modules: { 'a.rego': 'package a\np contains x if { x := 1 }' } }), /rego_parse_error/);
  const p = compile({ regoVersion: 'v0', modules: { 'a.rego': 'package a\nimport rego.v1\np contains x if { some x in [1, 2] }' } });
  assert.deepEqual(p.prepare('data.a.p').eval().results[0].expressions[0].value, [1, 2]);
});
