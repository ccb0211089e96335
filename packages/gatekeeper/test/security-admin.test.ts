/**
 * Security class 10: the admin endpoints (/metrics, /v1/budgets, the ledger's tiles) show agent names, spend and
 * decisions; they are refused unless an admin key is presented, served only on the separate admin address when one
 * is configured, and off (with the setting named) when neither is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashApiKey } from '../src/auth/agents.js';
import { KEYS, startGatekeeper } from './core/fixture.js';

const budgets = { store: { sqlite: ':memory:' }, limits: [{ id: 'orders', scope: 'agent', meter: 'action_amount', window: 'day', cap: '1000000' }] };
const PATHS = ['/metrics', '/v1/budgets', '/ledger/checkpoint'];

test('not configured: every admin endpoint is refused, naming the settings; health stays public', async () => {
  const fx = await startGatekeeper({ config: { budgets } });
  try {
    for (const path of PATHS) {
      const res = await fetch(`${fx.url}${path}`, { headers: { authorization: 'Bearer anything' } });
      assert.equal(res.status, 403, path);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /admin\.api_keys.*admin\.listen/);
    }
    assert.equal((await fetch(`${fx.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${fx.url}/readyz`)).status, 200);
  } finally {
    await fx.close();
  }
});

test('admin keys: no key, a wrong key, an agent key, a key in another header are refused; the admin key is served', async () => {
  const fx = await startGatekeeper({ config: { budgets, admin: { api_keys: [hashApiKey('ops-key')] } } });
  try {
    await fx.gk.deps.ledger!.checkpointNow();
    for (const path of PATHS) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${KEYS.buyer}` }, { 'x-api-key': 'ops-key' }, { authorization: 'Basic b3BzLWtleQ==' }, { authorization: 'Bearer ops-key2' }]) {
        const res = await fetch(`${fx.url}${path}`, { headers });
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.doesNotMatch(await res.text(), /buyer|gatekeeper_decisions/);
      }
      const ok = await fetch(`${fx.url}${path}`, { headers: { authorization: 'Bearer ops-key' } });
      assert.equal(ok.status, 200, path);
      const lower = await fetch(`${fx.url}${path}`, { headers: { authorization: 'bearer ops-key' } });
      assert.equal(lower.status, 200, 'the scheme is case-insensitive');
    }
  } finally {
    await fx.close();
  }
});

test('a separate admin address serves them without a key; the agents\' address does not serve them at all', async () => {
  const fx = await startGatekeeper({ config: { budgets, admin: { listen: '127.0.0.1:0', api_keys: [hashApiKey('ops-key')] } } });
  try {
    await fx.gk.deps.ledger!.checkpointNow();
    for (const path of PATHS) {
      assert.equal((await fetch(`${fx.url}${path}`, { headers: { authorization: 'Bearer ops-key' } })).status, 404, path);
      assert.equal((await fetch(`${fx.gk.adminUrl}${path}`)).status, 200, path);
    }
    assert.equal((await fetch(`${fx.gk.adminUrl}/v1/decisions`, { method: 'POST' })).status, 404, 'agents\' routes are not on the admin address');
  } finally {
    await fx.close();
  }
});

test('public_ledger opens the tiles (for witnesses) and nothing else', async () => {
  const fx = await startGatekeeper({ config: { budgets, admin: { public_ledger: true } } });
  try {
    await fx.gk.deps.ledger!.checkpointNow();
    assert.equal((await fetch(`${fx.url}/ledger/checkpoint`)).status, 200);
    assert.equal((await fetch(`${fx.url}/metrics`)).status, 403);
    assert.equal((await fetch(`${fx.url}/v1/budgets`)).status, 403);
  } finally {
    await fx.close();
  }
});
