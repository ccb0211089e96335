import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readBundle } from '../src/policy/bundle.js';
import { compileBundle } from '../src/policy/rego.js';
import { replay, formatReplay } from '../src/replay/replay.js';
import { KEYS, post, startGatekeeper } from './core/fixture.js';

const order = (total: number) => ({ kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total } });

test('replay re-decides recorded traffic under a candidate policy and reports what changes', async () => {
  const fx = await startGatekeeper();
  let candidateDir: string;
  try {
    for (const total of [100, 500_000, 1_500_000, 2_400_000, 6_000_000]) {
      await post(`${fx.url}/v1/decisions`, { action: order(total) }, KEYS.buyer);
    }
    await post(`${fx.url}/v1/decisions`, { action: order(1) }, 'wrong-key'); // never policy-decided
    // Candidate: the authorised limit drops from $1M to $400k.
    candidateDir = join(fx.dir, 'candidate');
    mkdirSync(candidateDir);
    const settings = (await import('./core/fixture.js')).SETTINGS;
    const lowered = structuredClone(settings);
    lowered.config.agents.buyer.limits[0]!.escalate_above = 400_000;
    writeFileSync(join(candidateDir, 'data.json'), JSON.stringify(lowered));
    const ledgerPath = join(fx.dir, 'ledger.db');
    const limits = { maxSteps: 1e7, timeoutMs: 5000, explain: 'none' } as const;
    const { STDLIB } = await import('./core/fixture.js');

    const same = replay(ledgerPath, compileBundle(readBundle([STDLIB, fx.policyDir]), limits));
    assert.equal(same.replayed, 5);
    assert.equal(same.changed, 0, 'the active policy reproduces every recorded decision');
    assert.deepEqual(same.skipped, { no_input: 0, not_policy_decided: 1, no_history: 0 });

    const report = replay(ledgerPath, compileBundle(readBundle([STDLIB, candidateDir]), limits), { sample: 5 });
    assert.deepEqual(report.transitions, { 'allow→allow': 1, 'allow→escalate': 1, 'escalate→escalate': 2, 'deny→deny': 1 });
    assert.equal(report.changed, 1);
    assert.equal(report.sample[0]!.before.outcome, 'allow');
    assert.equal(report.sample[0]!.after.outcome, 'escalate');
    assert.deepEqual(report.sample[0]!.action, { kind: 'llm.tool_call', target: { tool: 'place_order' } });
    assert.match(formatReplay(report), /allow→escalate +1\n/);
  } finally {
    await fx.close();
  }
});
