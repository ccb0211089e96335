/** One structured log line per request, with what the gate decided, and never a secret. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { KEYS, post, startGatekeeper, startUpstream } from './core/fixture.js';

/** A pino destination that keeps every line written, parsed. */
function logSink(): { lines: Record<string, unknown>[]; sink: Writable } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, sink };
}

test('every request is one line: method, path, status, latency, agent, decision, rule, record, index', async () => {
  const { lines, sink } = logSink();
  const erp = await startUpstream(() => ({ json: { ok: true } }));
  const fx = await startGatekeeper({ config: { apis: { erp: { base_url: erp.url } }, logging: { level: 'info' } }, build: { logger: pino({ level: 'info' }, sink) } });
  try {
    const secret = 'sk-proj-SECRETSECRETSECRET0123';
    await post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total: 10, note: secret } } }, KEYS.buyer);
    await fetch(`${fx.url}/apis/erp/admin?token=${secret}`, { headers: { authorization: `Bearer ${KEYS.buyer}` } });
    await fetch(`${fx.url}/apis/erp/inventory`, { headers: { authorization: `Bearer ${secret}` } });
    await fetch(`${fx.url}/nowhere/${secret}`);
    await new Promise((r) => setTimeout(r, 50));
    const requests = lines.filter((l) => l.msg === 'request');
    assert.equal(requests.length, 4, JSON.stringify(requests));
    const [allowed, denied, unknown, missing] = requests as Record<string, unknown>[];
    assert.deepEqual(
      { method: allowed!.method, path: allowed!.path, status: allowed!.status, agent: allowed!.agent, surface: allowed!.surface, kind: allowed!.kind, decision: allowed!.decision, decisions: allowed!.decisions },
      { method: 'POST', path: '/v1/decisions', status: 200, agent: 'buyer', surface: 'decision', kind: 'llm.tool_call', decision: 'allow', decisions: 1 },
    );
    assert.equal(typeof allowed!.ms, 'number');
    assert.match(String(allowed!.record), /^[0-9a-f-]{36}$/);
    assert.equal(typeof allowed!.index, 'number');
    assert.equal(denied!.status, 403);
    assert.equal(denied!.decision, 'deny');
    assert.equal(denied!.rule, 'data.oagf.deny');
    assert.equal(denied!.path, '/apis/erp/admin', 'no query string');
    assert.equal(unknown!.status, 401);
    assert.equal(unknown!.fault, 'unknown_agent');
    assert.equal(missing!.status, 404);
    assert.equal(missing!.path, '/nowhere/[REDACTED]', 'a secret in the path is redacted');
    assert.ok(!JSON.stringify(lines).includes(secret), 'no secret in any log line');
    assert.ok(!JSON.stringify(lines).includes(KEYS.buyer), 'no agent key in any log line');
  } finally {
    await fx.close();
    await erp.close();
  }
});

test('each request counts only its own decisions, with requests in flight at the same time', async () => {
  const { lines, sink } = logSink();
  const fx = await startGatekeeper({ config: { logging: { level: 'info' } }, build: { logger: pino({ level: 'info' }, sink) } });
  try {
    const item = (total: number) => ({ action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total } } });
    const sizes = [1, 2, 3, 4, 5, 6];
    const responses = await Promise.all(sizes.map((n) => post(`${fx.url}/v1/decisions/batch`, { items: Array.from({ length: n }, (_, i) => item(i + 1)) }, KEYS.buyer)));
    await new Promise((r) => setTimeout(r, 50));
    const logged = lines.filter((l) => l.msg === 'request');
    assert.equal(logged.length, sizes.length);
    assert.deepEqual(logged.map((l) => l.decisions).sort(), [...sizes].sort());
    // The record a line names is one of its own request's decisions.
    const ids = responses.map((r) => new Set((r.body as { results: { record_id: string }[] }).results.map((x) => x.record_id)));
    for (const l of logged) assert.ok(ids.some((s) => s.size === l.decisions && s.has(l.record as string)), JSON.stringify(l));
  } finally {
    await fx.close();
  }
});
