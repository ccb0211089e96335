/**
 * `gatekeeper replay`: re-decides every recorded action under a candidate policy, so a policy change can be judged
 * on real traffic before rollout. Each decision record carries its full input document (payload `input`, decision
 * time included), so time-window rules replay as they were decided, and — with sessions — its `input.session`, so
 * session rules replay on exactly the history each action was decided on. `session` narrows the replay to one
 * session and lists its decisions in order, changed or not: the flow a candidate policy would see differently.
 */
import { evaluate } from '../gate/index.js';
import type { PolicyEvaluator } from '../policy/engine.js';
import type { OagfInput } from '../spec/index.js';
import { HistoryRebuilder } from '../sessions/ledger-form.js';
import { readDecisions } from './ledger-reader.js';

export interface ChangedDecision {
  index: number;
  id: string;
  agent?: string;
  action: { kind: string; target: unknown };
  before: { outcome?: string; reasons?: string[] };
  after: { outcome: string; reasons: string[] };
}

/** One decision of a replayed session, in ledger order. */
export interface SessionStep extends ChangedDecision {
  changed: boolean;
  /** Labels in scope and flows the decision saw (its input.session). */
  labels: string[];
  flows: string[];
}

export interface ReplayReport {
  policy_digest: string;
  /** Decision records replayed. */
  replayed: number;
  /**
   * Records without a replayable input: payload deleted by retention, the policy never consulted (unknown agent), or
   * session history that refers to earlier payloads no longer in the ledger.
   */
  skipped: { no_input: number; not_policy_decided: number; no_history: number };
  /** "allow→deny" → count, for every old→new pair seen (unchanged pairs included). */
  transitions: Record<string, number>;
  changed: number;
  sample: ChangedDecision[];
  /** With `session`: that session's decisions in order. */
  session?: { id: string; steps: SessionStep[] };
}

export interface ReplayOptions {
  sample?: number;
  /** Only this session: its OAGF-Session / MCP session id, or the full `input.session.id`. */
  session?: string;
}

function inSession(doc: OagfInput, id: string): boolean {
  return doc.context?.session_id === id || doc.session?.id === id;
}

export function replay(ledgerPath: string, evaluator: PolicyEvaluator, options: ReplayOptions = {}): ReplayReport {
  const sampleSize = options.sample ?? 20;
  const report: ReplayReport = {
    policy_digest: evaluator.digest,
    replayed: 0,
    skipped: { no_input: 0, not_policy_decided: 0, no_history: 0 },
    transitions: {},
    changed: 0,
    sample: [],
    ...(options.session !== undefined ? { session: { id: options.session, steps: [] } } : {}),
  };
  const history = new HistoryRebuilder();
  for (const { index, record, input } of readDecisions(ledgerPath)) {
    const fault = (record.data?.fault as { code?: string } | undefined)?.code;
    if (fault === 'unknown_agent') {
      report.skipped.not_policy_decided++;
      continue;
    }
    if (input === undefined) {
      report.skipped.no_input++;
      continue;
    }
    const recorded = input as OagfInput;
    // Every session's history is followed, replayed or not: later payloads refer to the forms earlier ones hold.
    const session = recorded.session && history.rebuild(recorded.session);
    if (recorded.session && !session) {
      if (!report.session || inSession(recorded, report.session.id)) report.skipped.no_history++;
      continue;
    }
    const doc: OagfInput = session ? { ...recorded, session } : recorded;
    if (report.session && !inSession(doc, report.session.id)) continue;
    const result = evaluate(evaluator, doc);
    const after = 'decision' in result ? result.decision : { outcome: 'deny' as const, reasons: [result.fault.message] };
    const key = `${record.outcome}→${after.outcome}`;
    report.transitions[key] = (report.transitions[key] ?? 0) + 1;
    report.replayed++;
    const decision: ChangedDecision = {
      index,
      id: record.id,
      ...(record.agent ? { agent: record.agent } : {}),
      action: { kind: doc.action.kind, target: doc.action.target },
      before: { outcome: record.outcome, reasons: record.reasons ?? [] },
      after: { outcome: after.outcome, reasons: after.reasons },
    };
    const changed = after.outcome !== record.outcome;
    report.session?.steps.push({ ...decision, changed, ...sessionSeen(doc) });
    if (!changed) continue;
    report.changed++;
    if (report.sample.length < sampleSize) report.sample.push(decision);
  }
  return report;
}

function sessionSeen(doc: OagfInput): { labels: string[]; flows: string[] } {
  const s = doc.session;
  return {
    labels: (s?.labels ?? []).map((l) => `${l.label} from #${l.from.index}`),
    flows: (s?.flows ?? []).map((f) => `${f.path} ← #${f.from.index} (${f.labels.map((l) => l.label).join(', ')}, ${f.chars} chars)`),
  };
}

const line = (c: ChangedDecision) => `#${c.index} ${c.agent ?? '?'} ${c.action.kind} ${JSON.stringify(c.action.target)}: ${c.before.outcome} → ${c.after.outcome}`;

export function formatReplay(r: ReplayReport): string {
  const lines = [
    `replayed ${r.replayed} decisions under policy ${r.policy_digest}`,
    `skipped ${r.skipped.no_input} without input payload, ${r.skipped.not_policy_decided} never policy-decided (unknown agent), ${r.skipped.no_history} whose session history is no longer in the ledger`,
    `changed ${r.changed}`,
    '',
    `${'old → new'.padEnd(22)}count`,
  ];
  for (const [k, n] of Object.entries(r.transitions).sort()) lines.push(`${k.padEnd(22)}${n}`);
  if (r.session) {
    lines.push('', `session ${r.session.id} (${r.session.steps.length} decisions, * = changed):`);
    for (const step of r.session.steps) {
      const seen = [...(step.labels.length ? [`labels: ${step.labels.join('; ')}`] : []), ...(step.flows.length ? [`flows: ${step.flows.join('; ')}`] : [])];
      lines.push(`${step.changed ? '*' : ' '} ${line(step)}${seen.length ? ` [${seen.join(' | ')}]` : ''}`);
      if (step.changed) lines.push(`    was: ${(step.before.reasons ?? []).join('; ') || '(no reasons)'}`, `    now: ${step.after.reasons.join('; ') || '(no reasons)'}`);
    }
  }
  if (r.sample.length) {
    lines.push('', `sample of changed decisions (${r.sample.length} of ${r.changed}):`);
    for (const c of r.sample) {
      lines.push(`  ${line(c)}` + (c.after.reasons.length ? ` (${c.after.reasons.join('; ')})` : ''));
    }
  }
  return lines.join('\n');
}
