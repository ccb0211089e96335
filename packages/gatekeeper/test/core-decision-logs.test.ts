/**
 * Decision logs in OPA's format to a local sink: batched and gzip-compressed as OPA's plugin sends them, retried when
 * the sink fails, never holding a decision back; and to the console as OPA's console logger writes them.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { KEYS, post, startGatekeeper } from './core/fixture.js';

async function startSink(failFirst: number) {
  const batches: { headers: IncomingMessage['headers']; events: Record<string, any>[] }[] = [];
  let failures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures++ < failFirst) {
        res.writeHead(503).end();
        return;
      }
      batches.push({ headers: req.headers, events: JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, batches, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('events reach an OPA-style decision-log service, batched, gzip, in order, after retries; the console gets them too', async () => {
  const sink = await startSink(2);
  const lines: Record<string, any>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, done) => (String(c).split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l))), done()) }));
  process.env.GK_TEST_DL_TOKEN = 'dl-secret';
  const fx = await startGatekeeper({
    config: {
      logging: { level: 'info', requests: false },
      decision_logs: {
        console: true,
        service: { url: `${sink.url}/opa/`, resource: '/logs/gk', headers: { authorization: { env: 'GK_TEST_DL_TOKEN', prefix: 'Bearer ' } } },
        batch: { max_events: 3, max_delay_ms: 50 },
        labels: { env: 'test' },
      },
    },
    build: { logger },
  });
  try {
    const ids: string[] = [];
    for (const total of [10, 2_400_000, 7_000_000, 20, 30]) {
      const r = await post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total, memo: 'sk-proj-NOTINTHELOGS0123456789' } } }, KEYS.buyer);
      ids.push(r.body.record_id);
    }
    for (let i = 0; i < 100 && sink.batches.flatMap((b) => b.events).length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    const events = sink.batches.flatMap((b) => b.events);
    assert.deepEqual(events.map((e) => e.decision_id), ids, 'every decision, in order, despite two failed deliveries');
    assert.ok(sink.batches.every((b) => b.events.length <= 3));
    assert.equal(sink.batches[0]!.headers['content-encoding'], 'gzip');
    assert.equal(sink.batches[0]!.headers.authorization, 'Bearer dl-secret');
    const e = events[1]!;
    assert.equal(e.path, 'oagf/decision');
    assert.equal(e.result.outcome, 'escalate');
    assert.equal(e.input.action.arguments.total, 2_400_000);
    assert.equal(e.labels.app, 'gatekeeper');
    assert.equal(e.labels.env, 'test');
    assert.match(e.bundles.oagf.revision, /^sha256:[0-9a-f]{64}$/);
    assert.equal(typeof e.custom.ledger_index, 'number');
    assert.equal((await fx.gk.deps.ledger!.getRecord(e.custom.ledger_index))!.id, e.decision_id, 'links to its ledger entry');
    assert.ok(!JSON.stringify(events).includes('NOTINTHELOGS'), 'redacted like the ledger');
    const console = lines.filter((l) => l.msg === 'Decision Log');
    assert.equal(console.length, 5);
    assert.equal(console[0]!.type, 'openpolicyagent.org/decision_logs');
    // The sink stores a batch before it answers; the shipper counts it once the answer is in.
    let metrics = '';
    for (let i = 0; i < 40 && !/result="sent"\} 5/.test(metrics); i++, await new Promise((r) => setTimeout(r, 25))) {
      metrics = await fx.gk.deps.metrics.registry.getSingleMetricAsString('gatekeeper_decision_logs_total');
    }
    assert.match(metrics, /result="sent"\} 5/);
    assert.match(metrics, /result="failed"\} [1-9]/);
  } finally {
    await fx.close();
    await sink.close();
  }
});

test('a sink that is down holds nothing back: decisions stay fast and recorded; past the buffer, the oldest events are dropped and counted', async () => {
  const fx = await startGatekeeper({ config: { decision_logs: { service: { url: 'http://127.0.0.1:9' }, buffer_events: 2, batch: { max_events: 1, max_delay_ms: 10 } } } });
  try {
    for (let i = 0; i < 6; i++) {
      const r = await post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total: i } } }, KEYS.buyer);
      assert.equal(r.status, 200);
    }
    await fx.gk.deps.ledger!.checkpointNow();
    assert.equal(fx.gk.deps.ledger!.size(), 6, 'the ledger has every decision');
    const metrics = await fx.gk.deps.metrics.registry.getSingleMetricAsString('gatekeeper_decision_logs_total');
    assert.match(metrics, /result="dropped"\} [1-9]/);
  } finally {
    await fx.close();
  }
});
