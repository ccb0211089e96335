import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runConformance } from '../conformance/runner.js';

const ROOT = new URL('../../../../shared/conformance/', import.meta.url).pathname;
const floor = JSON.parse(readFileSync(new URL('../conformance-floor.json', import.meta.url), 'utf8')) as Record<string, number>;

for (const suite of Object.keys(floor)) {
  const dir = `${ROOT}${suite}/cases`;
  test(`OPA conformance ${suite}: passes do not drop below the floor`, { skip: !existsSync(dir) && `${dir} not present` }, () => {
    const rs = runConformance([dir]);
    const passed = rs.filter((r) => r.status === 'pass').length;
    assert.ok(passed >= floor[suite], `${suite}: ${passed} passed, floor is ${floor[suite]}`);
  });
}
