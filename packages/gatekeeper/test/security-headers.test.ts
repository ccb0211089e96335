/**
 * Security class 2 (headers): only an allowlist of the agent's headers reaches a business API; credentials,
 * forwarding and method-override headers never come from the agent; upstream cookies never reach the agent.
 * Each case asserts the agent's answer and exactly what the fake upstream received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { KEYS, SETTINGS, startGatekeeper, startUpstream, type Fixture } from './core/fixture.js';
import { rawRequest } from './support/raw-http.js';

describe('API proxy headers', () => {
  let fx: Fixture;
  let erp: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    process.env.GK_TEST_ERP_TOKEN = 'erp-secret';
    erp = await startUpstream((c) => ({ json: { path: c.url } }));
    const settings = structuredClone(SETTINGS) as { config: { teams: Record<string, { apis: Record<string, string[]> }> } };
    settings.config.teams['supply-chain']!.apis.tenanted = ['GET /inventory*'];
    fx = await startGatekeeper({
      settings,
      config: {
        apis: {
          erp: { base_url: `${erp.url}/v2`, headers: { authorization: { env: 'GK_TEST_ERP_TOKEN', prefix: 'Bearer ' } } },
          tenanted: { base_url: `${erp.url}/t`, forward_headers: ['accept', 'x-tenant'] },
        },
      },
    });
  });
  after(async () => {
    await fx.close();
    await erp.close();
  });

  const send = (headers: string[], target = '/apis/erp/inventory') =>
    rawRequest(fx.url, [`GET ${target} HTTP/1.1`, `authorization: Bearer ${KEYS.buyer}`, ...headers].join('\r\n'));

  test('headers the agent chooses that would change where or how the request is handled are dropped', async () => {
    const hostile = [
      'X-Forwarded-Host: evil.example',
      'X-Forwarded-For: 10.0.0.1',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Prefix: /admin',
      'Forwarded: for=10.0.0.1;host=evil.example',
      'X-Real-IP: 10.0.0.1',
      'X-Original-URL: /admin/secrets',
      'X-Rewrite-URL: /admin/secrets',
      'Cookie: session=stolen',
      'Proxy-Authorization: Basic Zm9vOmJhcg==',
      'X-Api-Key: agent-key',
      'Api-Key: agent-key',
      'OAGF-Decision-Id: forged',
      'Connection: keep-alive, X-Tenant',
      'TE: trailers',
      'Upgrade: websocket',
      'X-Custom-Thing: 1',
      'x-FORWARDED-host: mixed.example',
    ];
    const res = await send(hostile);
    assert.equal(res.status, 200, res.body);
    const seen = erp.received.at(-1)!.headers;
    for (const name of ['x-forwarded-host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-prefix', 'forwarded', 'x-real-ip', 'x-original-url', 'x-rewrite-url', 'cookie', 'proxy-authorization', 'x-api-key', 'api-key', 'te', 'upgrade', 'x-custom-thing']) {
      assert.equal(seen[name], undefined, `${name} reached the upstream`);
    }
    assert.equal(seen.authorization, 'Bearer erp-secret', "the API's own credential, never the agent's");
    assert.notEqual(seen['oagf-decision-id'], 'forged');
    assert.equal(seen['oagf-decision-id'], res.headers['oagf-decision-id']);
  });

  test('the agent credential never reaches the API in any of its three forms', async () => {
    for (const h of [`x-api-key: ${KEYS.buyer}`, `api-key: ${KEYS.buyer}`]) {
      const res = await rawRequest(fx.url, `GET /apis/erp/inventory HTTP/1.1\r\n${h}`);
      assert.equal(res.status, 200);
      assert.ok(!JSON.stringify(erp.received.at(-1)!.headers).includes(KEYS.buyer), h);
    }
  });

  test('method-override headers are refused, whatever their case, and nothing is sent', async () => {
    const before = erp.received.length;
    for (const h of ['X-HTTP-Method-Override: DELETE', 'x-http-method-override: PUT', 'X-HTTP-METHOD: DELETE', 'X-Method-Override: PATCH']) {
      const res = await send([h]);
      assert.equal(res.status, 400, h);
    }
    assert.equal(erp.received.length, before);
  });

  test('the default allowlist passes what APIs need; a configured allowlist passes exactly its names', async () => {
    await send(['Accept: application/json', 'Accept-Language: de', 'Idempotency-Key: k-1', 'If-None-Match: "v1"', 'X-Request-Id: r-1', 'X-Tenant: acme']);
    const seen = erp.received.at(-1)!.headers;
    assert.equal(seen.accept, 'application/json');
    assert.equal(seen['accept-language'], 'de');
    assert.equal(seen['idempotency-key'], 'k-1');
    assert.equal(seen['if-none-match'], '"v1"');
    assert.equal(seen['x-request-id'], 'r-1');
    assert.equal(seen['x-tenant'], undefined, 'not in the default allowlist');
    assert.match(String(seen.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);

    await send(['Accept: text/csv', 'X-Tenant: acme', 'Accept-Language: de'], '/apis/tenanted/inventory');
    const t = erp.received.at(-1)!.headers;
    assert.equal(t.accept, 'text/csv');
    assert.equal(t['x-tenant'], 'acme');
    assert.equal(t['accept-language'], undefined);
  });

  test('a request body the policy cannot read is described to it (type, size, digest), never hidden', async () => {
    const res = await rawRequest(fx.url, `POST /apis/erp/orders HTTP/1.1\r\nauthorization: Bearer ${KEYS.buyer}\r\ncontent-type: text/plain`, 'total=2400000');
    assert.equal(res.status, 403, 'an order whose amount the policy cannot read is denied');
    const record = (await fx.gk.deps.ledger!.findById(JSON.parse(res.body).error.record_id))!.record;
    const input = JSON.parse(Buffer.from((await fx.gk.deps.ledger!.getPayload(record.payloads!.input!))!).toString());
    const digest = `sha256:${createHash('sha256').update('total=2400000').digest('hex')}`;
    assert.deepEqual(input.action.content, { type: 'text/plain', bytes: 13, digest });
    assert.equal(input.action.body, undefined);
    const encoded = await rawRequest(fx.url, `POST /apis/erp/orders HTTP/1.1\r\nauthorization: Bearer ${KEYS.buyer}\r\ncontent-type: application/json\r\ncontent-encoding: gzip`, 'xx');
    assert.equal(encoded.status, 415);
  });
});
