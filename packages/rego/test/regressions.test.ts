import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runConformance } from '../conformance/runner.js';

// Cases where this engine once differed from OPA; their expected results were recorded from real OPA runs.
test('regression cases (conformance/regressions, expectations from OPA) all pass', () => {
  const rs = runConformance([new URL('../conformance/regressions/', import.meta.url).pathname]);
  assert.ok(rs.length >= 50, `only ${rs.length} regression cases found`);
  const failed = rs.filter((r) => r.status !== 'pass');
  assert.deepEqual(failed.map((r) => `${r.file}: ${r.note}: ${r.reason}`), []);
});
