import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runConformance } from '../conformance/runner.js';

// OPA_CONFORMANCE_DIR points elsewhere (the guard test uses it to check that a missing folder fails)
const ROOT = process.env.OPA_CONFORMANCE_DIR ?? new URL('../../../../shared/conformance/', import.meta.url).pathname;
const floor = JSON.parse(readFileSync(new URL('../conformance-floor.json', import.meta.url), 'utf8')) as Record<string, number>;

// The floor is the engine's main guard: a missing case folder must fail loudly, never skip.
for (const suite of Object.keys(floor)) {
  const dir = `${ROOT}${suite}/cases`;
  test(`OPA conformance ${suite}: passes do not drop below the floor`, () => {
    assert.ok(existsSync(dir), `OPA conformance cases missing: ${dir} does not exist (the ../shared/conformance folder beside the repository must hold OPA's YAML cases)`);
    const rs = runConformance([dir]);
    const passed = rs.filter((r) => r.status === 'pass').length;
    assert.ok(passed >= floor[suite], `${suite}: ${passed} passed, floor is ${floor[suite]}`);
  });
}
