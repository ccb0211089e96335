/** `input.session` from the stored history: the actions, the running totals per window, labels in scope, flows. */
import type { OagfSession, OagfSessionAction, OagfTarget } from '../spec/index.js';
import type { SessionEntry } from '../stores/session-history.js';
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

/** Entries are the store's read-only snapshots: each is turned into its input form once. */
const actions = new WeakMap<SessionEntry, OagfSessionAction>();

function actionOf(e: SessionEntry): OagfSessionAction {
  let a = actions.get(e);
  if (!a) actions.set(e, (a = toAction(e)));
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

/** This very call (same digest) made before: how often, how often it failed (denied, or failed when carried out). */
function repeatsOf(digest: string, entries: SessionEntry[]): OagfSession['repeats'] {
  let count = 0;
  let failed = 0;
  let last: SessionEntry | undefined;
  for (const e of entries) {
    if (e.digest !== digest) continue;
    count++;
    if (e.decision === 'deny' || e.outcome === 'failed') {
      failed++;
      last = e;
    }
  }
  return { count, failed, ...(last ? { last_failure: { id: last.id, index: last.index } } : {}) };
}

type InScope = OagfSession['labels'][number];

/** An entry's labels in their input form, keyed by label and source; built once per entry snapshot. */
const scoped = new WeakMap<SessionEntry, [string, InScope][]>();

function scopedOf(e: SessionEntry): [string, InScope][] {
  let s = scoped.get(e);
  if (!s) {
    const from = refOf(e);
    scoped.set(e, (s = e.labels!.map((l) => [`${l.label}\u0000${l.source}`, { ...l, from }])));
  }
  return s;
}

/** Each label and source once, from the latest action that brought it into scope (actions[] has every one). */
function inScope(entries: SessionEntry[]): OagfSession['labels'] {
  const latest = new Map<string, InScope>();
  for (const e of entries) {
    if (!labelsInScope(e)) continue;
    for (const [key, l] of scopedOf(e)) latest.set(key, l);
  }
  return [...latest.values()];
}

export function summarize(id: string, digest: string, entries: SessionEntry[], now: number, windows: Window[], flows: Flow[]): OagfSession {
  const totals: OagfSession['totals'] = {};
  for (const w of windows) {
    const byCurrency: Record<string, { value: number; count: number }> = {};
    for (const e of entries) {
      if (!e.amount || e.time <= now - w.ms || !wentAhead(e)) continue;
      const t = (byCurrency[e.amount.currency] ??= { value: 0, count: 0 });
      t.value += e.amount.value;
      t.count++;
    }
    totals[w.name] = byCurrency;
  }
  return {
    id,
    digest,
    repeats: repeatsOf(digest, entries),
    actions: entries.map(actionOf),
    totals,
    labels: inScope(entries),
    flows: flows.map((f) => ({ path: f.path, chars: f.chars, labels: f.from.labels ?? [], from: refOf(f.from) })),
  };
}
