import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('the OPA conformance floor fails, naming the path, when the case folder is missing', () => {
  const missing = '/nonexistent/conformance-for-guard-test/';
  // NODE_TEST_CONTEXT would make the child report to this runner instead of exiting with its own status
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', '--test', 'test/conformance.test.ts'], {
    cwd: new URL('..', import.meta.url).pathname, env: { ...env, OPA_CONFORMANCE_DIR: missing }, encoding: 'utf8',
  });
  assert.notEqual(r.status, 0, 'the floor test must fail');
  assert.match(r.stdout, /OPA conformance cases missing: \/nonexistent\/conformance-for-guard-test\/opa-v1\/cases does not exist/);
  assert.doesNotMatch(r.stdout, /# skipped [1-9]/);
});
