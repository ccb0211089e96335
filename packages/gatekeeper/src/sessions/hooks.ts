/**
 * The sessions plug-in's gate hooks:
 *
 *   enrich     reads the session's history, fingerprints tool results that came back for labelled tool calls,
 *              finds flows of labelled text into this action, and fills `input.session`;
 *   ledgerInput keeps the history in the ledger's input payload by reference to earlier payloads (ledger-form.ts);
 *   committed  appends the decided action (with the labels the policy's `label` obligations attach to its result);
 *   executed   records what came of it, and fingerprints its result when the surface read one.
 *
 * A session is the OAGF-Session (or MCP session) id together with the root of the delegation chain, so agents a
 * task was delegated to share its history and labels; without a session id an agent's actions form one session,
 * bounded by `expire`.
 */
import type { CommittedView, ExecutionReport, GateHooks } from '../gate/index.js';
import { labelsOf } from '../obligations.js';
import type { AgentIdentity, OagfAction, OagfContext } from '../spec/index.js';
import type { SessionEntry, SessionHistoryStore } from '../stores/session-history.js';
import { fingerprint } from './fingerprint.js';
import { HistoryRecorder } from './ledger-form.js';
import { perHistory } from './per-history.js';
import { flowsOf, toolResultsOf } from './provenance.js';
import { summarize, type Window } from './summary.js';

export function sessionKey(agent: AgentIdentity, context: OagfContext): string {
  const root = agent.delegation[0]?.agent ?? agent.id;
  return `${context.session_id ?? '-'}|${root}`;
}

/** Default source of a label: what the data was read from. */
export function sourceOf(action: OagfAction): string {
  const t = action.target;
  if (action.kind === 'http.request') return `${t.api} ${t.method} ${t.path}`;
  if (t.tool) return t.server ? `${t.server}/${t.tool}` : t.tool;
  return t.uri ?? t.prompt ?? action.kind;
}

export function sessionHooks(store: SessionHistoryStore, windows: Window[], kept: (kind: string) => boolean = () => true): GateHooks {
  const recorder = new HistoryRecorder();
  return {
    async enrich(input, attempt, actionDigest) {
      const key = sessionKey(input.agent, input.context);
      const recent = await store.recent(key, input.time.unix_ms);
      const entries = input.action.kind === 'llm.request' ? await absorbToolResults(store, key, recent, attempt.trace) : recent;
      const flows = flowsOf(input.action, attempt.trace, entries);
      return { session: summarize(key, actionDigest, entries, input.time.unix_ms, windows, flows) };
    },

    ledgerInput(input) {
      if (input.session) return { session: recorder.ledgerForm(input.session) };
    },

    async committed(view) {
      const { input } = view;
      if (input.session) recorder.committed(input.session);
      if (view.decision.fault || !input.session || !kept(input.action.kind)) return;
      const labels = labelsOf(view.decision.obligations, sourceOf(input.action));
      const callId = input.context.tool_call_id;
      const entry: SessionEntry = {
        id: view.recordId,
        index: view.index,
        time: input.time.unix_ms,
        agent: input.agent.id,
        kind: input.action.kind,
        target: input.action.target,
        digest: view.actionDigest,
        decision: view.decision.outcome,
        ...(input.action.amount ? { amount: { value: input.action.amount.value, currency: input.action.amount.currency } } : {}),
        ...(typeof callId === 'string' ? { callId } : {}),
        ...(labels.length ? { labels } : {}),
      };
      await store.append(input.session.id, entry);
    },

    async executed(view: CommittedView, report: ExecutionReport) {
      if (!view.input.session || !kept(view.input.action.kind)) return;
      const labelled = labelsOf(view.decision.obligations, '').length > 0;
      // A tool call handed to the agent, allowed outright: nothing the policy reads changes (its result, if
      // labelled, comes back in a tool message). Approved escalations and upstream calls are recorded.
      if (report.result === 'completed' && report.status === undefined && report.content === undefined && !report.approved) return;
      await store.update(view.input.session.id, view.recordId, {
        outcome: report.result,
        ...(report.status !== undefined ? { status: report.status } : {}),
        ...(labelled && report.content !== undefined ? { print: fingerprint(report.content) } : {}),
      });
    },
  };
}

/** Labelled tool calls whose result has not come back yet, by call id. */
const waitingOf = perHistory((entries) => new Map(entries.filter((e) => e.callId && e.labels?.length && !e.print).map((e) => [e.callId!, e])));

/**
 * Tool results the agent sends back for labelled tool calls of the session: fingerprinted once, when first seen.
 * Returns the entries with those results (the store's are shared read-only snapshots, so they are replaced).
 */
async function absorbToolResults(store: SessionHistoryStore, key: string, entries: readonly SessionEntry[], transcript: unknown): Promise<readonly SessionEntry[]> {
  const waiting = waitingOf(entries);
  if (!waiting.size) return entries;
  const seen = new Map<string, SessionEntry>();
  for (const { callId, content } of toolResultsOf(transcript)) {
    const entry = waiting.get(callId);
    if (!entry || seen.has(entry.id)) continue;
    const change = { print: fingerprint(content), outcome: 'completed' as const };
    seen.set(entry.id, { ...entry, ...change });
    await store.update(key, entry.id, change);
  }
  return seen.size ? entries.map((e) => seen.get(e.id) ?? e) : entries;
}
