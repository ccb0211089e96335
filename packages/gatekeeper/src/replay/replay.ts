/**
 * `gatekeeper replay`: re-decides every recorded action under a candidate policy, so a policy change can be judged
 * on real traffic before rollout. Each decision record carries its full input document (payload `input`, decision
 * time included), so time-window rules replay as they were decided.
 */
import { evaluate } from '../gate/index.js';
import type { PolicyEvaluator } from '../policy/engine.js';
import type { OagfInput } from '../spec/index.js';
import { readDecisions } from './ledger-reader.js';

export interface ChangedDecision {
  index: number;
  id: string;
  agent?: string;
  action: { kind: string; target: unknown };
  before: { outcome?: string; reasons?: string[] };
  after: { outcome: string; reasons: string[] };
}

export interface ReplayReport {
  policy_digest: string;
  /** Decision records replayed. */
  replayed: number;
  /** Records without a replayable input: payload deleted by retention, or the policy was never consulted (unknown agent). */
  skipped: { no_input: number; not_policy_decided: number };
  /** "allow→deny" → count, for every old→new pair seen (unchanged pairs included). */
  transitions: Record<string, number>;
  changed: number;
  sample: ChangedDecision[];
}

export function replay(ledgerPath: string, evaluator: PolicyEvaluator, options: { sample?: number } = {}): ReplayReport {
  const sampleSize = options.sample ?? 20;
  const report: ReplayReport = {
    policy_digest: evaluator.digest,
    replayed: 0,
    skipped: { no_input: 0, not_policy_decided: 0 },
    transitions: {},
    changed: 0,
    sample: [],
  };
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
    const doc = input as OagfInput;
    const result = evaluate(evaluator, doc);
    const after = 'decision' in result ? result.decision : { outcome: 'deny' as const, reasons: [result.fault.message] };
    const key = `${record.outcome}→${after.outcome}`;
    report.transitions[key] = (report.transitions[key] ?? 0) + 1;
    report.replayed++;
    if (after.outcome === record.outcome) continue;
    report.changed++;
    if (report.sample.length < sampleSize) {
      report.sample.push({
        index,
        id: record.id,
        ...(record.agent ? { agent: record.agent } : {}),
        action: { kind: doc.action.kind, target: doc.action.target },
        before: { outcome: record.outcome, reasons: record.reasons ?? [] },
        after: { outcome: after.outcome, reasons: after.reasons },
      });
    }
  }
  return report;
}

export function formatReplay(r: ReplayReport): string {
  const lines = [
    `replayed ${r.replayed} decisions under policy ${r.policy_digest}`,
    `skipped ${r.skipped.no_input} without input payload, ${r.skipped.not_policy_decided} never policy-decided (unknown agent)`,
    `changed ${r.changed}`,
    '',
    `${'old → new'.padEnd(22)}count`,
  ];
  for (const [k, n] of Object.entries(r.transitions).sort()) lines.push(`${k.padEnd(22)}${n}`);
  if (r.sample.length) {
    lines.push('', `sample of changed decisions (${r.sample.length} of ${r.changed}):`);
    for (const c of r.sample) {
      lines.push(
        `  #${c.index} ${c.agent ?? '?'} ${c.action.kind} ${JSON.stringify(c.action.target)}: ${c.before.outcome} → ${c.after.outcome}` +
          (c.after.reasons.length ? ` (${c.after.reasons.join('; ')})` : ''),
      );
    }
  }
  return lines.join('\n');
}
