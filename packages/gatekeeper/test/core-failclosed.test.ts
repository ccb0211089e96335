/** Every gatekeeper fault gives a deny with a clear reason and a 503 — never an allow — on the real server. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { KEYS, post, startGatekeeper, startUpstream } from './core/fixture.js';

const order = (total: number) => ({ kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total } });

const ALLOW_ALL = `package oagf
decision := {"outcome": "allow"}
`;

test('ledger failure: the database is gone, decisions are denied with 503 and nothing is forwarded', async () => {
  const erp = await startUpstream(() => ({ json: { ok: true } }));
  const fx = await startGatekeeper({ modules: { 'allow.rego': ALLOW_ALL }, config: { apis: { erp: { base_url: erp.url } } } });
  try {
    assert.equal((await post(`${fx.url}/v1/decisions`, { action: order(1) }, KEYS.buyer)).status, 200);
    await fx.gk.deps.ledger!.close(); // the store is no longer writable
    const r = await post(`${fx.url}/v1/decisions`, { action: order(1) }, KEYS.buyer);
    assert.equal(r.status, 503);
    assert.equal(r.body.decision.outcome, 'deny');
    assert.equal(r.body.decision.fault.code, 'ledger_failure');
    assert.match(r.body.decision.reasons[0], /could not be recorded in the ledger/);
    assert.equal(r.body.index, undefined);

    const proxied = await fetch(`${fx.url}/apis/erp/anything`, { headers: { authorization: `Bearer ${KEYS.buyer}` } });
    assert.equal(proxied.status, 503);
    assert.equal(((await proxied.json()) as any).error.type, 'gatekeeper_fault');
    assert.equal(erp.received.length, 0, 'an unrecorded action is never carried out');
  } finally {
    await fx.close().catch(() => undefined);
    await erp.close();
  }
});

test('ledger failure: the database file becomes read-only underneath the gatekeeper', async () => {
  const fx = await startGatekeeper({ modules: { 'allow.rego': ALLOW_ALL } });
  try {
    // Another connection takes an exclusive lock, so the ledger cannot write (like a read-only or full disk).
    const { default: Database } = await import('better-sqlite3');
    const blocker = new Database(join(fx.dir, 'ledger.db'));
    blocker.pragma('busy_timeout = 0');
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      const r = await post(`${fx.url}/v1/decisions`, { action: order(1) }, KEYS.buyer);
      assert.equal(r.status, 503);
      assert.equal(r.body.decision.fault.code, 'ledger_failure');
      const ready = await fetch(`${fx.url}/readyz`);
      assert.equal(ready.status, 503, 'not ready while the ledger cannot be written');
      assert.match(((await ready.json()) as any).problems[0], /ledger/);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    const again = await post(`${fx.url}/v1/decisions`, { action: order(1) }, KEYS.buyer);
    assert.equal(again.status, 200, 'recovers once the store is writable again');
    assert.equal(again.body.decision.outcome, 'allow');
    assert.equal((await fetch(`${fx.url}/readyz`)).status, 200);
  } finally {
    await fx.close();
  }
});

test('policy evaluation error: deny with policy_error, recorded', async () => {
  const fx = await startGatekeeper({
    modules: { 'broken.rego': `package oagf\ndecision := {"outcome": "allow", "reasons": [sprintf("%v", [input.action.arguments.total / 0])]}\n` },
  });
  try {
    const r = await post(`${fx.url}/v1/decisions`, { action: order(5) }, KEYS.buyer);
    assert.equal(r.status, 503);
    assert.equal(r.body.decision.outcome, 'deny');
    assert.equal(r.body.decision.fault.code, 'policy_error');
    assert.match(r.body.decision.reasons[0], /divide by zero|division by zero/i);
    assert.equal((await fx.gk.deps.ledger!.findById(r.body.record_id))!.record.outcome, 'deny');
  } finally {
    await fx.close();
  }
});

test('policy evaluation over its step budget: deny with policy_budget', async () => {
  const fx = await startGatekeeper({
    modules: {
      'slow.rego': `package oagf\nbig := count([x | some x in numbers.range(1, input.action.arguments.total); x % 7 == 0])\ndecision := {"outcome": "allow", "reasons": [sprintf("%v", [big])]}\n`,
    },
    config: { policy: { bundle: ['./policy'], max_steps: 1000 } },
  });
  try {
    const small = await post(`${fx.url}/v1/decisions`, { action: order(5) }, KEYS.buyer);
    assert.equal(small.body.decision.outcome, 'allow', 'within the budget the policy decides');
    const r = await post(`${fx.url}/v1/decisions`, { action: order(100_000) }, KEYS.buyer);
    assert.equal(r.status, 503);
    assert.equal(r.body.decision.fault.code, 'policy_budget');
  } finally {
    await fx.close();
  }
});

test('a policy that produces no or a malformed decision denies', async () => {
  const fx = await startGatekeeper({ modules: { 'odd.rego': `package oagf\ndecision := {"outcome": "yes"} if input.action.arguments.total > 10\n` } });
  try {
    const none = await post(`${fx.url}/v1/decisions`, { action: order(5) }, KEYS.buyer);
    assert.equal(none.body.decision.fault.code, 'policy_output');
    const bad = await post(`${fx.url}/v1/decisions`, { action: order(50) }, KEYS.buyer);
    assert.equal(bad.status, 503);
    assert.equal(bad.body.decision.outcome, 'deny');
    assert.match(bad.body.decision.reasons[0], /outcome/);
  } finally {
    await fx.close();
  }
});

test('hot reload: a bundle that fails to compile is rejected and the previous one stays active', async () => {
  const fx = await startGatekeeper({ modules: { 'p.rego': ALLOW_ALL } });
  try {
    const source = fx.gk.deps.policy as import('../src/policy/source.js').WatchedBundle;
    const first = source.current()!.digest;
    const next = (pred: (r: { ok: boolean }) => boolean) =>
      new Promise<{ ok: boolean; error?: string }>((resolve) => {
        const off = source.onReload((r) => {
          if (pred(r)) {
            off();
            resolve(r);
          }
        });
      });

    const rejected = next((r) => !r.ok);
    writeFileSync(join(fx.policyDir, 'p.rego'), 'package oagf\ndecision := {"outcome": "deny" \n');
    const r1 = await rejected;
    assert.match(r1.error!, /does not compile[\s\S]*p\.rego:\d+/);
    assert.equal(source.current()!.digest, first);
    assert.equal((await post(`${fx.url}/v1/decisions`, { action: order(1) }, KEYS.buyer)).body.decision.outcome, 'allow');

    const loaded = next((r) => r.ok);
    writeFileSync(join(fx.policyDir, 'p.rego'), 'package oagf\ndecision := {"outcome": "deny", "reasons": ["closed for the day"]}\n');
    await loaded;
    assert.notEqual(source.current()!.digest, first);
    const r = await post(`${fx.url}/v1/decisions`, { action: order(1) }, KEYS.buyer);
    assert.equal(r.body.decision.outcome, 'deny');
    assert.deepEqual(r.body.decision.reasons, ['closed for the day']);
    assert.equal(r.body.decision.policy_digest, source.current()!.digest);
  } finally {
    await fx.close();
  }
});

test('a bundle that does not compile at start refuses to start, naming the file and line', async () => {
  await assert.rejects(startGatekeeper({ modules: { 'bad.rego': 'package oagf\n\ndecision := {\n' } }), /does not compile[\s\S]*bad\.rego:\d+/);
});
