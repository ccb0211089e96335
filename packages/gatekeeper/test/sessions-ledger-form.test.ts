/** The session history in the ledger's input payload by reference (sessions/ledger-form.ts), and replay's rebuild. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistoryRebuilder, HistoryRecorder } from '../src/sessions/ledger-form.js';
import type { OagfSession, OagfSessionAction } from '../src/spec/index.js';

const action = (index: number, extra: Partial<OagfSessionAction> = {}): OagfSessionAction => ({
  index,
  time_ms: 1000 + index,
  agent: 'buyer',
  kind: 'llm.tool_call',
  target: { tool: 'read_document' },
  decision: 'allow',
  ...extra,
});

const session = (actions: OagfSessionAction[], id = 's|buyer'): OagfSession => ({ id, digest: 'sha256:x', repeats: { count: 0, failed: 0 }, actions, totals: {}, labels: [], flows: [] });

/** The payload as the ledger stores it (JSON through and through). */
const stored = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('session history in the ledger by reference', () => {
  it('a payload holds only the forms not committed before; replay rebuilds exactly the actions the policy saw', () => {
    const recorder = new HistoryRecorder();
    const replay = new HistoryRebuilder();
    const a1 = action(1);
    const a2 = action(2, { labels: [{ label: 'private', source: 'board' }] });
    const first = session([a1]);
    const p1 = stored(recorder.ledgerForm(first));
    recorder.committed(first);
    assert.equal('actions' in p1, false);
    assert.equal(Object.keys(p1.history.added).length, 1);
    assert.deepEqual(replay.rebuild(p1), stored(first));

    const second = session([a1, a2]);
    const p2 = stored(recorder.ledgerForm(second));
    recorder.committed(second);
    assert.deepEqual(Object.values(p2.history.added), [stored(a2)], 'the first action is by reference');
    assert.deepEqual(replay.rebuild(p2), stored(second));

    // a1's outcome came in: a new form, written again once; a2 stays by reference.
    const a1done = { ...a1, outcome: 'failed' as const, status: 500 };
    const third = session([a1done, a2, action(3)]);
    const p3 = stored(recorder.ledgerForm(third));
    assert.deepEqual(Object.values(p3.history.added).map((a: any) => a.index), [1, 3]);
    assert.notEqual(p3.history.refs[0], p2.history.refs[0], 'another state of the same action, another ref');
    assert.deepEqual(replay.rebuild(p3), stored(third));
  });

  it('a form not committed (the append failed) is written again; an uncommitted payload is never referred to', () => {
    const recorder = new HistoryRecorder();
    const a1 = action(1);
    recorder.ledgerForm(session([a1])); // never committed
    assert.equal(Object.keys(recorder.ledgerForm(session([a1])).history.added).length, 1);
  });

  it('a copy of a committed form (another object, the same content) is by reference too', () => {
    const recorder = new HistoryRecorder();
    const first = session([action(1)]);
    recorder.committed(first);
    assert.deepEqual(recorder.ledgerForm(session([action(1)])).history.added, {});
  });

  it('replicas: an older form referred to after another replica wrote a newer one still rebuilds', () => {
    const [a, b] = [new HistoryRecorder(), new HistoryRecorder()];
    const replay = new HistoryRebuilder();
    const old = action(1);
    const s1 = session([old]);
    const pa1 = stored(a.ledgerForm(s1));
    a.committed(s1);
    const s2 = session([{ ...old, outcome: 'completed' }]);
    const pb = stored(b.ledgerForm(s2));
    b.committed(s2);
    // replica A decided on its cached (older) form, and its record lands after B's.
    const s3 = session([old, action(2)]);
    const pa2 = stored(a.ledgerForm(s3));
    assert.equal(Object.keys(pa2.history.added).length, 1, 'A refers to its own older form');
    for (const [p, s] of [[pa1, s1], [pb, s2], [pa2, s3]] as const) assert.deepEqual(replay.rebuild(p), stored(s));
  });

  it('a referenced form that is not in the ledger (payload deleted by retention): not rebuilt', () => {
    const recorder = new HistoryRecorder();
    const first = session([action(1)]);
    recorder.ledgerForm(first);
    recorder.committed(first);
    const later = stored(recorder.ledgerForm(session([action(1), action(2)])));
    assert.equal(Object.keys(later.history.added).length, 1);
    assert.equal(new HistoryRebuilder().rebuild(later), undefined, 'the replay never saw the payload holding a1');
    assert.deepEqual(new HistoryRebuilder().rebuild(stored(first)), stored(first), 'a payload from before (actions copied) is taken as it is');
  });
});
