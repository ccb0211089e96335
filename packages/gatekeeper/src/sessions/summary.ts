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

function actionOf(e: SessionEntry): OagfSessionAction {
  return {
    id: e.id,
    index: e.index,
    time: new Date(e.time).toISOString(),
    time_ms: e.time,
    agent: e.agent,
    kind: e.kind,
    target: e.target as OagfTarget,
    digest: e.digest,
    decision: e.decision,
    ...(e.outcome ? { outcome: e.outcome } : {}),
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.amount ? { amount: e.amount } : {}),
    ...(e.labels?.length ? { labels: e.labels } : {}),
  };
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
    actions: entries.map(actionOf),
    totals,
    labels: entries.filter(labelsInScope).flatMap((e) => e.labels!.map((l) => ({ ...l, from: refOf(e) }))),
    flows: flows.map((f) => ({ path: f.path, chars: f.chars, labels: f.from.labels ?? [], from: refOf(f.from) })),
  };
}
