import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const fixtures = fileURLToPath(new URL('./cli-fixtures/', import.meta.url));
const v0 = fileURLToPath(new URL('./v0-policies/', import.meta.url));

function rego(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('rego test prints PASS: N/M, names each failure and exits non-zero', () => {
  const r = rego('test', fixtures);
  assert.equal(r.code, 1);
  assert.match(r.out, /^FAIL: data\.fixture\.test_double_fails$/m);
  assert.match(r.out, /^PASS: 1\/2$/m);
});

test('rego test --v0-compatible passes the v0 suites and exits zero', () => {
  const r = rego('test', '--v0-compatible', v0);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^PASS: 9\/9$/m);
});

test('rego eval prints OPA-style JSON results', () => {
  const r = rego('eval', '-d', fixtures, 'x := data.fixture.double(21)');
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out);
  assert.deepEqual(out.result[0].bindings, { x: 42 });
});

test('rego check reports compile errors with file:line and exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-check-'));
  writeFileSync(join(dir, 'bad.rego'), 'package bad\n\np if {\n  x > 1\n}\n');
  const r = rego('check', dir);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.rego:4: rego_unsafe_var_error: var x is unsafe/);
  assert.equal(rego('check', fixtures).code, 0);
});
