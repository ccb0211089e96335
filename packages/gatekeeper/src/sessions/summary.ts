/** `input.session` from the stored history: the actions, the running totals per window, labels in scope, flows. */
import type { OagfSession, OagfSessionAction, OagfTarget } from '../spec/index.js';
import type { SessionEntry } from '../stores/session-history.js';
import { perHistory } from './per-history.js';
import type { Flow } from './provenance.js';

export interface Window {
  name: string;
  ms: number;
}

/** An amount counts toward the totals when the action went ahead: allowed and not failed, or completed after approval. */
function wentAhead(e: SessionEntry): boolean {
  if (e.outcome === 'failed' || e.outcome === 'released') return false;
  return e.decision === 'allow' || e.outcome === 'completed';
}

/** Its result reached the agent (so did its labels): it went ahead. */
export const labelsInScope = (e: SessionEntry): boolean => !!e.labels?.length && wentAhead(e);

const refOf = (e: SessionEntry) => ({ id: e.id, index: e.index, kind: e.kind, target: e.target as OagfTarget, agent: e.agent });

/**
 * A deep copy of plain data, frozen all the way down: every decision on the history shares it, none can change it,
 * and the redactor checks it once (redact.ts).
 */
function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  // Loops rather than entries/fromEntries: a new history entry is copied on the decision path.
  let copy: unknown[] | Record<string, unknown>;
  if (Array.isArray(value)) {
    copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = frozenCopy(value[i]);
  } else {
    copy = {};
    for (const k of Object.keys(value)) copy[k] = frozenCopy((value as Record<string, unknown>)[k]);
  }
  return Object.freeze(copy) as T;
}

/** Entries are the store's read-only snapshots: each is turned into its input form once. */
const actions = new WeakMap<SessionEntry, OagfSessionAction>();

function actionOf(e: SessionEntry): OagfSessionAction {
  let a = actions.get(e);
  if (!a) actions.set(e, (a = frozenCopy(toAction(e))));
  return a;
}

function toAction(e: SessionEntry): OagfSessionAction {
  // Compact: every decision carries its history in its input and ledger record; the ledger index names the action.
  return {
    index: e.index,
    time_ms: e.time,
    agent: e.agent,
    kind: e.kind,
    target: e.target as OagfTarget,
    decision: e.decision,
    ...(e.outcome ? { outcome: e.outcome } : {}),
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.amount ? { amount: e.amount } : {}),
    ...(e.labels?.length ? { labels: e.labels } : {}),
  };
}

type Repeats = OagfSession['repeats'];
type InScope = OagfSession['labels'][number];

/** Per digest, how often the call was made and how often it failed (denied, or failed when carried out). */
function repeatsByDigest(entries: readonly SessionEntry[]): Map<string, Repeats> {
  const tally = new Map<string, { count: number; failed: number; last?: SessionEntry }>();
  for (const e of entries) {
    let t = tally.get(e.digest);
    if (!t) tally.set(e.digest, (t = { count: 0, failed: 0 }));
    t.count++;
    if (e.decision === 'deny' || e.outcome === 'failed') {
      t.failed++;
      t.last = e;
    }
  }
  const out = new Map<string, Repeats>();
  for (const [digest, { count, failed, last }] of tally) out.set(digest, { count, failed, ...(last ? { last_failure: { id: last.id, index: last.index } } : {}) });
  return out;
}

const NEVER: Repeats = Object.freeze({ count: 0, failed: 0 });

/** An entry's labels in their input form, keyed by label and source; built once per entry snapshot. */
const scoped = new WeakMap<SessionEntry, [string, InScope][]>();

function scopedOf(e: SessionEntry): [string, InScope][] {
  let s = scoped.get(e);
  if (!s) {
    // The action's frozen form already holds a frozen copy of the target: shared, not copied again.
    const a = actionOf(e);
    const from = Object.freeze({ id: e.id, index: e.index, kind: a.kind, target: a.target, agent: a.agent });
    scoped.set(e, (s = e.labels!.map((l) => [`${l.label}\u0000${l.source}`, Object.freeze({ label: l.label, source: l.source, from })])));
  }
  return s;
}

/** Each label and source once, from the latest action that brought it into scope (actions[] has every one). */
function inScope(entries: readonly SessionEntry[]): OagfSession['labels'] {
  const latest = new Map<string, InScope>();
  for (const e of entries) {
    if (!labelsInScope(e)) continue;
    for (const [key, l] of scopedOf(e)) latest.set(key, l);
  }
  return [...latest.values()];
}

/** What `input.session` takes from a history whatever the action: the same for every decision on that history. */
interface Digested {
  actions: readonly OagfSessionAction[];
  labels: OagfSession['labels'];
  repeats: Map<string, Repeats>;
  /** The entries with an amount that went ahead (the only ones the totals count). */
  counted: readonly SessionEntry[];
}

/** The parts shared by every decision on one history are frozen: no decision can change what another one sees. */
const digestOf = perHistory(
  (entries): Digested => ({
    actions: Object.freeze(entries.map(actionOf)),
    labels: Object.freeze(inScope(entries)) as OagfSession['labels'],
    repeats: repeatsByDigest(entries),
    counted: entries.filter((e) => e.amount && wentAhead(e)),
  }),
);

export function summarize(id: string, digest: string, entries: readonly SessionEntry[], now: number, windows: Window[], flows: Flow[]): OagfSession {
  const d = digestOf(entries);
  const totals: OagfSession['totals'] = {};
  for (const w of windows) {
    const byCurrency: Record<string, { value: number; count: number }> = {};
    for (const e of d.counted) {
      if (e.time <= now - w.ms) continue;
      const t = (byCurrency[e.amount!.currency] ??= { value: 0, count: 0 });
      t.value += e.amount!.value;
      t.count++;
    }
    totals[w.name] = byCurrency;
  }
  const repeats = d.repeats.get(digest) ?? NEVER;
  return {
    id,
    digest,
    repeats: { ...repeats },
    actions: d.actions as OagfSessionAction[],
    totals,
    labels: d.labels,
    flows: flows.map((f) => ({ path: f.path, chars: f.chars, labels: f.from.labels ?? [], from: refOf(f.from) })),
  };
}
