/** The Rego test suites of the OAGF standard library and the keynote bundle, run through @oagf/rego in CI. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runPolicyTests } from '../src/policy/testing.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

for (const [name, dirs] of [
  ['policies/ (OAGF standard library)', [root('policies')]],
  ['examples/keynote', [root('policies'), root('examples/keynote/policy')]],
] as const) {
  test(`rego tests pass: ${name}`, () => {
    const results = runPolicyTests([...dirs]);
    assert.ok(results.length >= 6, `found only ${results.length} tests`);
    const failed = results.filter((r) => r.outcome !== 'pass').map((r) => `${r.outcome} ${r.query} ${r.error ?? ''}`);
    assert.deepEqual(failed, []);
  });
}

test('the test runner reports failing and erroring tests', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'gk-rt-'));
  writeFileSync(join(dir, 'p.rego'), 'package p\nx := 1\n');
  writeFileSync(join(dir, 'p_test.rego'), 'package p\ntest_ok if data.p.x == 1\ntest_bad if data.p.x == 2\ntest_err if 1 / 0 == 1\n');
  const byName = Object.fromEntries(runPolicyTests(dir).map((r) => [r.name, r.outcome]));
  assert.deepEqual(byName, { test_ok: 'pass', test_bad: 'fail', test_err: 'error' });
});
