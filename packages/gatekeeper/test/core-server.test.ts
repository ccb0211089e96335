import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashApiKey } from '../src/auth/agents.js';
import { KEYS, post, startGatekeeper, startUpstream, type Fixture } from './core/fixture.js';

const order = (total: number) => ({ kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { sku: 'STEEL-7', total } });

describe('decision API and API proxy on the real engine and ledger', () => {
  let fx: Fixture;
  let erp: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    process.env.GK_TEST_ERP_TOKEN = 'erp-secret';
    erp = await startUpstream((c) =>
      c.url === '/v2/suppliers/raw'
        ? { text: 'bank_account=DE89 3704 0044' }
        : c.url.startsWith('/v2/suppliers')
          ? { json: { supplier: { name: 'Acme Steel', bank_account: 'DE89 3704 0044' } } }
          : { json: { ok: true, path: c.url } },
    );
    fx = await startGatekeeper({
      config: {
        apis: {
          erp: { base_url: `${erp.url}/v2`, headers: { authorization: { env: 'GK_TEST_ERP_TOKEN', prefix: 'Bearer ' } } },
          dead: { base_url: 'http://127.0.0.1:9', timeout_ms: 2000 },
        },
        admin: { api_keys: [hashApiKey('admin-key')] },
      },
    });
  });
  after(async () => {
    await fx.close();
    await erp.close();
  });

  test('allow, escalate, deny are decided, recorded with their input, and answered 200', async () => {
    const outcomes = [];
    for (const total of [250_000, 2_400_000, 7_000_000]) {
      const r = await post(`${fx.url}/v1/decisions`, { action: order(total), context: { session_id: 'sess-1' } }, KEYS.buyer);
      assert.equal(r.status, 200);
      outcomes.push(r.body.decision.outcome);
      // explain: refusals (default) — only deny/escalate carry the rules that produced them
      assert.equal(r.body.decision.explanation.length > 0, r.body.decision.outcome !== 'allow');
      const ledger = fx.gk.deps.ledger!;
      const found = (await ledger.findById(r.body.record_id))!;
      assert.equal(found.index, r.body.index);
      assert.equal(found.record.outcome, r.body.decision.outcome);
      assert.equal(found.record.action_digest, r.body.action_digest);
      const input = JSON.parse(Buffer.from((await ledger.getPayload(found.record.payloads!.input!))!).toString());
      assert.equal(input.action.amount.value, total, 'amount located from configuration');
      assert.equal(input.agent.id, 'buyer');
      assert.equal(input.context.session_id, 'sess-1');
      assert.equal(input.context.surface, 'decision');
    }
    assert.deepEqual(outcomes, ['allow', 'escalate', 'deny']);
  });

  test('the escalation names its approvers and the rule that produced it', async () => {
    const r = await post(`${fx.url}/v1/decisions`, { action: order(2_400_000) }, KEYS.buyer);
    assert.deepEqual(r.body.decision.approvers.groups, ['procurement-leads']);
    assert.match(r.body.decision.reasons[0], /2400000.*1000000/);
    assert.deepEqual(
      r.body.decision.explanation.map((e: any) => `${e.rule} ${e.location.file.split('/').pop()}`),
      ['data.oagf.escalate amounts.rego', 'data.oagf.decision decision.rego'],
      'only the rules that produced the outcome',
    );
    assert.match(r.body.decision.policy_digest, /^sha256:[0-9a-f]{64}$/);
  });

  test('batch decides every item in order', async () => {
    const r = await post(`${fx.url}/v1/decisions/batch`, { items: [{ action: order(1) }, { action: order(9_000_000) }] }, KEYS.buyer);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results.map((x: any) => x.decision.outcome), ['allow', 'deny']);
  });

  test('invalid action document is a 400 naming the field', async () => {
    const r = await post(`${fx.url}/v1/decisions`, { action: { kind: 'Place Order!' } }, KEYS.buyer);
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /action\.kind/);
  });

  test('unknown agent: 401 with a recorded deny, never an allow', async () => {
    const before = fx.gk.deps.ledger!.size();
    const r = await post(`${fx.url}/v1/decisions`, { action: order(1) }, 'not-a-key');
    assert.equal(r.status, 401);
    assert.equal(r.body.decision.outcome, 'deny');
    assert.equal(r.body.decision.fault.code, 'unknown_agent');
    assert.equal(fx.gk.deps.ledger!.size(), before + 1);
    const none = await post(`${fx.url}/v1/decisions`, { action: order(1) });
    assert.equal(none.status, 401);
  });

  test('API proxy: allowed call forwarded with the gatekeeper credential and the caller trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${fx.url}/apis/erp/inventory/STEEL-7?site=rotterdam&site=antwerp`, {
      headers: { authorization: `Bearer ${KEYS.buyer}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, path: '/v2/inventory/STEEL-7?site=rotterdam&site=antwerp' });
    const seen = erp.received.at(-1)!;
    assert.equal(seen.headers.authorization, 'Bearer erp-secret', 'credential added by the gatekeeper, agent key not forwarded');
    assert.match(String(seen.headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.notEqual(String(seen.headers.traceparent), `00-${traceId}-00f067aa0ba902b7-01`, 'a child span, not the caller span');
    const id = res.headers.get('oagf-decision-id')!;
    const { record } = (await fx.gk.deps.ledger!.findById(id))!;
    assert.equal(record.outcome, 'allow');
    assert.deepEqual(record.data!.target, { api: 'erp', method: 'GET', path: '/inventory/STEEL-7' });
  });

  test('API proxy: a denied call never reaches the API (403 with the reason)', async () => {
    const count = erp.received.length;
    const res = await fetch(`${fx.url}/apis/erp/orders/17`, { method: 'DELETE', headers: { authorization: `Bearer ${KEYS.buyer}` } });
    assert.equal(res.status, 403);
    const body = (await res.json()) as any;
    assert.equal(body.error.type, 'policy_denied');
    assert.match(body.error.message, /DELETE \/orders\/17 on API erp is not allowed/);
    assert.equal(erp.received.length, count);
  });

  test('API proxy: an order over the limit in the JSON body escalates and is not forwarded without approvals', async () => {
    const count = erp.received.length;
    const r = await post(`${fx.url}/apis/erp/orders`, { sku: 'STEEL-7', total: 2_400_000, currency: 'USD' }, KEYS.buyer);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.decision.outcome, 'escalate');
    assert.match(r.body.error.message, /^approval required/);
    assert.equal(erp.received.length, count);
    const anonymous = await post(`${fx.url}/apis/erp/orders`, { sku: 'STEEL-7', total: 10, currency: 'USD' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.decision.fault.code, 'unknown_agent');
    assert.equal(erp.received.length, count, 'an unknown agent never reaches the API');
    const ok = await post(`${fx.url}/apis/erp/orders`, { sku: 'STEEL-7', total: 900_000, currency: 'USD' }, KEYS.buyer);
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(erp.received.at(-1)!.body).total, 900_000, 'body forwarded unchanged');
  });

  test('API proxy: a redact obligation removes the field from the response', async () => {
    const res = await fetch(`${fx.url}/apis/erp/suppliers/42`, { headers: { authorization: `Bearer ${KEYS.buyer}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { supplier: { name: 'Acme Steel' } });
    const raw = await fetch(`${fx.url}/apis/erp/suppliers/raw`, { headers: { authorization: `Bearer ${KEYS.buyer}` } });
    assert.equal(raw.status, 503, 'an obligation that cannot be fulfilled blocks the response');
    assert.doesNotMatch(await raw.text(), /DE89/);
  });

  test('API proxy: unknown API is 404; unreachable API is 502 after a recorded allow', async () => {
    const res = await fetch(`${fx.url}/apis/hr/people`, { headers: { authorization: `Bearer ${KEYS.buyer}` } });
    assert.equal(res.status, 404);
    const dead = await fetch(`${fx.url}/apis/dead/status`, { headers: { authorization: `Bearer ${KEYS.buyer}` } });
    assert.equal(dead.status, 502);
    const body = (await dead.json()) as any;
    assert.equal(body.error.type, 'upstream_error');
    assert.equal((await fx.gk.deps.ledger!.findById(body.error.record_id))!.record.outcome, 'allow');
  });

  test('health, readiness, metrics and ledger tiles', async () => {
    assert.equal((await fetch(`${fx.url}/healthz`)).status, 200);
    const ready = await fetch(`${fx.url}/readyz`);
    assert.equal(ready.status, 200);
    const admin = { authorization: 'Bearer admin-key' };
    const metrics = await (await fetch(`${fx.url}/metrics`, { headers: admin })).text();
    assert.match(metrics, /gatekeeper_decisions_total\{outcome="allow",surface="decision",fault=""\} \d+/);
    assert.match(metrics, /gatekeeper_decisions_total\{outcome="deny",surface="decision",fault="unknown_agent"\} \d+/);
    assert.match(metrics, /gatekeeper_decision_duration_seconds_bucket/);
    assert.match(metrics, /gatekeeper_upstream_duration_seconds_bucket\{le="[^"]+",upstream="erp",status="200"\}/);
    await fx.gk.deps.ledger!.checkpointNow();
    const checkpoint = await fetch(`${fx.url}/ledger/checkpoint`, { headers: admin });
    assert.equal(checkpoint.status, 200);
    assert.match(await checkpoint.text(), /^test\.local\/ledger\n\d+\n/);
  });
});
