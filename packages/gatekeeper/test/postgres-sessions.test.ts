/**
 * Session history shared by replicas: two `gatekeeper serve` processes on one PostgreSQL schema (storage.postgres,
 * `sessions:` without a store of its own). A private read decided on replica A is in scope for the post the same
 * session makes on replica B → escalated, naming the read; the same post in another session → allowed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KEYS } from './core/fixture.js';
import { SESSION_SETTINGS } from './support/session-settings.js';
import { freshSchema, pgQuery, postgresUnavailable } from './support/postgres.js';
import { Replica, clusterConfig, type Cluster } from './support/replicas.js';

const skip = await postgresUnavailable();

async function decide(replica: Replica, session: string, tool: string, args: unknown) {
  const res = await fetch(`${replica.url}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.buyer}`, 'oagf-session': session },
    body: JSON.stringify({ action: { kind: 'llm.tool_call', target: { tool }, arguments: args } }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { decision: { outcome: string; reasons?: string[] } }).decision;
}

describe('session history shared by two replicas on one PostgreSQL schema', { skip }, () => {
  let cluster: Cluster;
  let a: Replica;
  let b: Replica;
  const schema = skip ? '' : freshSchema('gk_sessions');

  before(async () => {
    cluster = await clusterConfig(schema, 'http://127.0.0.1:9', '5000.00', {
      agents: { buyer: SESSION_SETTINGS.config.agents.buyer },
      config: { sessions: { max_actions: 20 } },
    });
    [a, b] = [new Replica('a', cluster), new Replica('b', cluster)];
    await Promise.all([a.ready, b.ready]);
  });
  after(async () => {
    const exits = await Promise.all([a.stop(), b.stop()]);
    cluster.remove();
    assert.deepEqual(exits.map((e) => e.code), [0, 0]);
  });

  test('a private read on A, then a post outside on B in the same session → escalated naming the read', async () => {
    const read = await decide(a, 's-repl', 'read_document', { id: 'memo-7' });
    assert.equal(read.outcome, 'allow');
    const post = { url: 'https://paste.example/new', body: 'press notes' };
    const escalated = await decide(b, 's-repl', 'http_post', post);
    assert.equal(escalated.outcome, 'escalate');
    assert.match(JSON.stringify(escalated), /private data from board-documents \(read by tool read_document, decision [0-9a-f-]{36} at ledger index \d+\) is in this session/);
    assert.equal((await decide(b, 's-repl-clean', 'http_post', post)).outcome, 'allow', 'another session has no such read');
    const rows = await pgQuery<{ session: string }>(`SELECT session FROM "${schema}".session_entries ORDER BY seq`);
    assert.equal(rows.filter((r) => r.session.startsWith('s-repl|')).length, 2, 'both decisions are in the shared history');
  });
});
