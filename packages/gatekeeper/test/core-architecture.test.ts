/**
 * The structure the package promises, checked: surfaces never manage escrow or approvals themselves (the
 * lifecycle does), dependencies point one way, and a surface added in one folder gets the whole lifecycle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { post, startGatekeeper, KEYS } from './core/fixture.js';
import { echoSurface } from './fixtures/echo-surface/index.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('no surface settles or releases escrow, holds, or calls the approvals or budgets plug-ins itself', () => {
  const forbidden: [RegExp, string][] = [
    [/\.settle\(|\.release\(/, 'settles or releases escrow (the lifecycle does)'],
    [/\.reservation\b|\.hold\b/, 'reads the escrow or the hold of an outcome'],
    [/from '(\.\.\/)+(budgets|approvals|stores)\//, 'imports the budgets or approvals plug-in or a store'],
    [/\.decide\(/, 'decides without the lifecycle (gate.run)'],
  ];
  const found: string[] = [];
  for (const file of filesUnder(join(SRC, 'surfaces'))) {
    const text = readFileSync(file, 'utf8');
    for (const [pattern, what] of forbidden) if (pattern.test(text)) found.push(`${file.slice(SRC.length)}: ${what}`);
  }
  assert.deepEqual(found, []);
});

test('dependencies point one way: rego, ledger and sandbox never import the gatekeeper', () => {
  const found: string[] = [];
  for (const pkg of ['rego', 'ledger', 'sandbox']) {
    let files: string[];
    try {
      files = filesUnder(join(PACKAGES, pkg, 'src'));
    } catch {
      continue;
    }
    for (const file of files) if (/@oagf\/gatekeeper|packages\/gatekeeper/.test(readFileSync(file, 'utf8'))) found.push(file);
  }
  assert.deepEqual(found, []);
});

test('a surface added in its own folder gets the whole lifecycle: policy, ledger, refusals', async () => {
  const modules = {
    'echo.rego': `package oagf
import rego.v1
default decision := {"outcome": "deny", "reasons": ["not an echo"]}
decision := {"outcome": "allow", "reasons": []} if { input.action.kind == "echo.call"; input.action.target.tool == "ping" }`,
  };
  const fx = await startGatekeeper({ modules, build: { surfaces: [echoSurface] } });
  try {
    const ok = await post(`${fx.url}/v1/echo/ping`, { n: 1 }, KEYS.buyer);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.echoed, { n: 1 });
    const denied = await post(`${fx.url}/v1/echo/pong`, { n: 1 }, KEYS.buyer);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.message, 'not an echo');
    const unknown = await post(`${fx.url}/v1/echo/ping`, { n: 1 }, 'wrong-key');
    assert.equal(unknown.status, 401);
    const ledger = fx.gk.deps.ledger!;
    await ledger.checkpointNow();
    const types = await Promise.all(Array.from({ length: ledger.size() }, async (_, i) => (await ledger.getRecord(i))!.type));
    assert.deepEqual(types, ['decision', 'outcome', 'decision', 'decision']);
    assert.equal((await ledger.getRecord(1))!.links![0]!.id, ok.body.record_id);
  } finally {
    await fx.close();
  }
});
