/**
 * Security class 9: the shipped keynote policy, served for real. Its $1M/$5M limits name the buyer; the planner may
 * use the ERP too, and used to book orders with no limit at all. Money now moves only under a limit that covers
 * the caller, and an order whose amount cannot be read is refused. The ERP receives nothing for any of them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { KEYS, startGatekeeper, startUpstream, type Fixture } from './core/fixture.js';

const KEYNOTE = parse(readFileSync(fileURLToPath(new URL('../../../examples/keynote/policy/data.yaml', import.meta.url)), 'utf8'));

describe('the keynote policy: money moves only under a limit', () => {
  let fx: Fixture;
  let erp: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    erp = await startUpstream(() => ({ status: 201, json: { order: 'o-1' } }));
    fx = await startGatekeeper({ settings: KEYNOTE, config: { apis: { erp: { base_url: erp.url } } } });
  });
  after(async () => {
    await fx.close();
    await erp.close();
  });

  const order = (key: string, body: string, type = 'application/json') =>
    fetch(`${fx.url}/apis/erp/orders`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': type }, body });

  test('the planner cannot book an order through the ERP, large or small, however the amount is written', async () => {
    const bodies = [
      '{"sku":"STEEL-COIL-7","total":4900000,"currency":"USD"}',
      '{"sku":"STEEL-COIL-7","total":10,"currency":"USD"}',
      '{"sku":"STEEL-COIL-7","total":"4900000","currency":"usd"}',
      '{"sku":"STEEL-COIL-7","quantity":2450}',
      '{"sku":"STEEL-COIL-7","total":4900000}',
      '{"sku":"STEEL-COIL-7","total":null,"currency":"USD"}',
    ];
    for (const body of bodies) {
      const res = await order(KEYS.planner, body);
      assert.equal(res.status, 403, body);
      const reason = ((await res.json()) as { error: { message: string } }).error.message;
      assert.match(reason, /no spending limit covers agent planner|could not be read/, body);
    }
    const raw = await order(KEYS.planner, 'total=4900000&currency=USD', 'application/x-www-form-urlencoded');
    assert.equal(raw.status, 403);
    assert.equal(erp.received.length, 0, 'the ERP got nothing');
  });

  test('the buyer still can, under its limits: a routine order is booked once, a $2.4M one escalates', async () => {
    const ok = await order(KEYS.buyer, '{"sku":"STEEL-COIL-7","total":900000,"currency":"USD"}');
    assert.equal(ok.status, 201);
    assert.equal(erp.received.length, 1);
    const big = await order(KEYS.buyer, '{"sku":"STEEL-COIL-7","total":2400000,"currency":"USD"}');
    assert.equal(big.status, 403, 'no approvals configured here: the escalation is refused');
    assert.match(((await big.json()) as { error: { message: string } }).error.message, /approval required/);
    const unread = await order(KEYS.buyer, '{"sku":"STEEL-COIL-7","qty":1200}');
    assert.equal(unread.status, 403);
    assert.equal(erp.received.length, 1);
  });
});
