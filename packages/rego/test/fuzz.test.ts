import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { generate } from '../fuzz/generate.js';
import { ours } from '../fuzz/outcome.js';

// The differential fuzzer's generator against this engine alone (fuzz/compare-opa.ts compares with real OPA):
// every program must end in a value, undefined or a RegoError, within its budget: no crash, no hang.
test('generated programs never crash or hang the engine', () => {
  const kinds = { value: 0, undefined: 0, error: 0 };
  const t0 = Date.now();
  for (let seed = 1; seed <= 400; seed++) {
    const p = generate(seed);
    let o;
    try {
      o = ours(p, { maxSteps: 200_000, timeoutMs: 500 });
    } catch (e) {
      assert.fail(`seed ${seed} crashed: ${(e as Error).stack}\n${p.module}`);
    }
    kinds[o.kind]++;
  }
  // the generator must keep producing programs that evaluate, not only errors (most random programs are type errors)
  assert.ok(kinds.value + kinds.undefined > 60, JSON.stringify(kinds));
  assert.ok(Date.now() - t0 < 60_000, `took ${Date.now() - t0} ms`);
});

test('the generator is deterministic per seed', () => {
  assert.deepEqual(generate(7), generate(7));
  assert.notDeepEqual(generate(7).module, generate(8).module);
});
