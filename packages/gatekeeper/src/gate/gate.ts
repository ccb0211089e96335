/**
 * The gate: the single path every surface (OpenAI-compatible, API proxy, decision API, MCP, sandbox) sends an
 * agent's action through. `decide()` is the decision half of the lifecycle (lifecycle.ts has the whole of it):
 *
 *   1. builds the OAGF input document from the attempt (the amount located by the `amounts:` rules);
 *   2. `enrich`: plug-ins fill input fields (budgets: `input.budgets`);
 *   3. evaluates the active policy bundle (`data.oagf.decision`), validating its output;
 *   4. `observe`, then for an escalation `escalate` (approvals redeem an approval or open one, held or async),
 *      then for an allow `admit` (budgets take the escrow, or turn the allow into a deny);
 *   5. appends the decision record to the ledger, with the full input document as payload `input` — and only
 *      resolves once that append is durable, so nothing unrecorded is ever carried out;
 *   6. `committed` (approvals open the request and send notices).
 *
 * It never throws. Every fault becomes a deny carrying `fault` (→ HTTP 503, unknown agent → 401): no bundle,
 * policy error, evaluation over budget, malformed policy output, a plug-in error, a ledger failure. A ledger record
 * is written for faults too, whenever the ledger itself still works.
 */
import { createHash } from 'node:crypto';
import type { AmountLocation } from '../config/schema.js';
import { digestOf } from '../digest.js';
import type { PolicySource } from '../policy/engine.js';
import type { Redactor } from '../redact.js';
import { NO_TELEMETRY, type Telemetry } from '../telemetry/index.js';
import { timeOf, type Decision, type GateFault, type OagfInput, type OagfSession } from '../spec/index.js';
import type { DecisionLog, DecisionRecord, RecordLink } from '../stores/ledger.js';
import { withAmount } from './amounts.js';
import { evaluate, faultDecision, refusedAdmission } from './evaluate.js';
import type { ActionAttempt, AdmitWhen, DecisionView, ExecutionReport, GateHooks, NamedHooks, PendingApproval, RecordAdditions, Reservation } from './hooks.js';
import { orderHooks } from './order.js';
import { recordId as newRecordId } from './record-id.js';
import { combineReservations } from './reservations.js';

export interface GateOutcome {
  attempt: ActionAttempt;
  decision: Decision;
  input: OagfInput;
  /** Id of the ledger record (assigned before the append, so plug-ins can link to it). */
  recordId: string;
  /** Ledger index once the record is durable; undefined when it could not be written. */
  index?: number;
  /** sha256:<hex> of the canonical action document. */
  actionDigest: string;
  fault?: GateFault;
  /** For escalations held open: resolves to the reviewer's verdict (or a deny on expiry, timeout, failure). */
  hold?: Promise<Decision>;
  /** For asynchronous escalations: the approval the agent retries with (`OAGF-Approval: <id>`) → HTTP 202. */
  approval?: PendingApproval;
  /** Escrow taken for an allowed action; the lifecycle settles or releases it. */
  reservation?: Reservation;
  /** Set when a rate limit refused the action: the agent may retry after this many seconds. */
  retryAfterSeconds?: number;
}

export interface GateObserver {
  decided(outcome: GateOutcome, elapsedMs: number): void;
  hookFailed(stage: string, err: unknown): void;
}

export interface GateOptions {
  policy: PolicySource;
  log: DecisionLog;
  /** Plug-ins' hooks; their order is resolved from their `after` constraints (a bad order throws here). */
  plugins?: NamedHooks[];
  /** Where actions carry their amount (gatekeeper.yaml `amounts:`). */
  amounts?: AmountLocation[];
  /** Secrets are removed from records and payloads before they are appended (the digest still covers the exact action). */
  redactor?: Redactor;
  /** Spans for the decision and the ledger append. */
  telemetry?: Telemetry;
  clock?: () => Date;
  observer?: GateObserver;
}

/** The decision half of the gate, shared by `decide` and the lifecycle. */
export interface Decider {
  decide(attempt: ActionAttempt): Promise<GateOutcome>;
  /** Admits an action a reviewer approved after it was held (budgets reserve now); a refusal is a deny. */
  admitApproved(outcome: GateOutcome, decision: Decision): Promise<{ decision: Decision; reservation?: Reservation }>;
  /** Tells plug-ins what came of a carried-out action (never throws: their errors are logged). */
  executed(outcome: GateOutcome, decision: Decision, report: ExecutionReport): Promise<void>;
  /** The ledger, with secrets removed from every record and payload before it is appended. */
  readonly log: DecisionLog;
  readonly clock: () => Date;
  readonly observer: GateObserver | undefined;
}

interface Pending {
  decision: Decision;
  retryAfterSeconds?: number;
  record: Required<RecordAdditions>;
  approval?: PendingApproval;
  verdict?: () => Promise<Decision>;
  reservation?: Reservation;
  fault?: GateFault;
}

export function createDecider(options: GateOptions): Decider {
  const { policy, amounts = [], clock = () => new Date(), observer, telemetry = NO_TELEMETRY } = options;
  const log = options.redactor ? redactingLog(options.log, options.redactor) : options.log;
  const hooks: GateHooks[] = orderHooks(options.plugins ?? []).map((p) => p.hooks);
  // Per stage, only the plug-ins that take part in it: a stage nobody hooks costs no view, no await.
  const taking = (stage: keyof GateHooks) => hooks.filter((h) => h[stage] !== undefined);
  const enrichers = taking('enrich');
  const observers = taking('observe');
  const admitters = taking('admit');
  const committers = taking('committed');
  const executors = taking('executed');
  const keepers = taking('ledgerInput');

  /** One span per decision: what was decided, by which rule, where it is in the ledger. */
  function decideTraced(attempt: ActionAttempt): Promise<GateOutcome> {
    if (!telemetry.enabled) return decideSafely(attempt);
    const attributes = { 'oagf.action.kind': attempt.action.kind, 'oagf.agent.id': attempt.agent.id, 'oagf.surface': attempt.surface };
    return telemetry.inSpan(`oagf.decide ${attempt.action.kind}`, 'internal', attributes, async (span) => {
      const outcome = await decideSafely(attempt);
      const rule = outcome.decision.explanation[0]?.rule;
      span.set({
        'oagf.decision.outcome': outcome.decision.outcome,
        'oagf.decision.id': outcome.recordId,
        'oagf.policy.digest': outcome.decision.policy_digest,
        ...(rule ? { 'oagf.decision.rule': rule } : {}),
        ...(outcome.index !== undefined ? { 'oagf.ledger.index': outcome.index } : {}),
        ...(outcome.fault ? { 'oagf.fault': outcome.fault.code } : {}),
      });
      if (outcome.fault) span.fail(new Error(outcome.fault.message));
      return outcome;
    });
  }

  /** Last line of defence for "never throws": an unexpected error still yields a fail-closed deny. */
  async function decideSafely(attempt: ActionAttempt): Promise<GateOutcome> {
    try {
      return await decide(attempt);
    } catch (err) {
      observer?.hookFailed('decide', err);
      const decision = faultDecision('internal_error', `the gatekeeper failed to decide: ${(err as Error)?.message ?? err}`, '');
      const input: OagfInput = { version: 'oagf/v1', agent: attempt.agent, action: attempt.action, context: attempt.context, budgets: {}, time: timeOf(new Date()) };
      const outcome: GateOutcome = { attempt, decision, fault: decision.fault, input, recordId: newRecordId(), actionDigest: '' };
      observer?.decided(outcome, 0);
      return outcome;
    }
  }

  async function decide(attempt: ActionAttempt): Promise<GateOutcome> {
    const started = performance.now();
    const now = clock();
    const input: OagfInput = {
      version: 'oagf/v1',
      agent: attempt.agent,
      action: withAmount(attempt.action, amounts),
      context: { ...attempt.context, surface: attempt.surface },
      budgets: {},
      time: timeOf(now),
    };
    const evaluator = policy.current();
    const digest = evaluator?.digest ?? '';
    const recordId = newRecordId(now.getTime());
    const { actionDigest, problem } = digestAction(input.action);
    const state: Pending = { decision: faultDecision('no_policy', 'no policy bundle is loaded', digest), record: { links: [], data: {}, payloads: {} } };
    const fail = (code: GateFault['code'], message: string) => {
      state.decision = faultDecision(code, message, digest);
      state.fault = state.decision.fault;
      state.approval = undefined;
      state.verdict = undefined;
    };
    const view = (): DecisionView => ({ attempt, input, decision: state.decision, recordId, actionDigest });

    if (attempt.unauthenticated !== undefined) fail('unknown_agent', attempt.unauthenticated);
    else if (problem) fail('invalid_action', problem);
    else if (!evaluator) fail('no_policy', 'no policy bundle is loaded');
    else {
      try {
        if (enrichers.length > 0) await enrich(input, attempt, actionDigest);
        const evaluated = telemetry.enabled
          ? await telemetry.inSpan('oagf.policy.evaluate', 'internal', { 'oagf.policy.digest': digest }, async () => evaluate(evaluator, input))
          : evaluate(evaluator, input);
        if ('fault' in evaluated) fail(evaluated.fault.code, evaluated.fault.message);
        else {
          state.decision = evaluated.decision;
          for (const h of observers) h.observe!(view());
          if (state.decision.outcome === 'escalate') await escalate(view(), state);
          if (state.decision.outcome === 'allow' && admitters.length > 0) await admit(view(), 'decision', state);
        }
      } catch (err) {
        if (!(err instanceof HookError)) throw err;
        await releaseQuietly(state.reservation, 'plug-in failure');
        state.reservation = undefined;
        fail('hook_error', err.message);
      }
    }

    const outcome: GateOutcome = { attempt, decision: state.decision, input, recordId, actionDigest, ...(state.fault ? { fault: state.fault } : {}) };
    try {
      const append = () => log.append(recordOf(outcome, state.record, now), { ...state.record.payloads, input: ledgerInput(input) });
      const { index } = telemetry.enabled ? await telemetry.inSpan('oagf.ledger.append', 'internal', { 'oagf.decision.id': recordId }, append) : await append();
      outcome.index = index;
    } catch (err) {
      await releaseQuietly(state.reservation, 'ledger failure');
      outcome.decision = faultDecision('ledger_failure', `the decision could not be recorded in the ledger: ${(err as Error).message ?? err}`, digest);
      outcome.fault = outcome.decision.fault;
      observer?.decided(outcome, performance.now() - started);
      return outcome;
    }
    if (state.reservation) outcome.reservation = state.reservation;
    if (state.approval && !state.verdict) outcome.approval = state.approval;
    if (state.retryAfterSeconds !== undefined) outcome.retryAfterSeconds = state.retryAfterSeconds;

    if (committers.length > 0) {
      const committed = { ...view(), index: outcome.index!, payloads: state.record.payloads, ...(state.approval ? { pending: state.approval } : {}) };
      for (const h of committers) {
        try {
          await h.committed!(committed);
        } catch (err) {
          observer?.hookFailed('committed', err);
        }
      }
    }
    // Waiting starts once the approval exists (opened in `committed` above).
    if (state.verdict) outcome.hold = holdOf(state.verdict, outcome.decision);
    observer?.decided(outcome, performance.now() - started);
    return outcome;
  }

  async function enrich(input: OagfInput, attempt: ActionAttempt, actionDigest: string): Promise<void> {
    for (const h of enrichers) {
      const added = await stage('enrich', () => h.enrich!(input, attempt, actionDigest));
      if (added) Object.assign(input, added);
    }
  }

  /** The input as the ledger's payload keeps it: a plug-in may keep its fields by reference (ledgerInput). */
  function ledgerInput(input: OagfInput): unknown {
    let kept: Record<string, unknown> | undefined;
    for (const h of keepers) {
      const fields = h.ledgerInput!(input);
      if (fields) kept = { ...(kept ?? input), ...fields };
    }
    return kept ?? input;
  }

  async function escalate(view: DecisionView, state: Pending): Promise<void> {
    for (const h of hooks) {
      const result = await stage('escalate', () => h.escalate?.(view));
      if (!result) continue;
      merge(state.record, result.record);
      if (result.kind === 'pending') {
        state.approval = result.approval;
        if (result.mode === 'hold' && result.verdict) state.verdict = result.verdict;
      } else {
        state.decision = result.decision;
      }
      return;
    }
  }

  /** Every plug-in admits the action or the first refusal wins; holds taken before a refusal are released. */
  async function admit(view: DecisionView, when: AdmitWhen, state: Pick<Pending, 'decision' | 'record' | 'reservation' | 'retryAfterSeconds'>): Promise<void> {
    const taken: Reservation[] = [];
    for (const h of admitters) {
      let result;
      try {
        result = await stage('admit', () => h.admit!(view, when));
      } catch (err) {
        await Promise.all(taken.map((r) => releaseQuietly(r, 'plug-in failure')));
        throw err;
      }
      if (!result) continue;
      merge(state.record, result.record);
      if (result.kind === 'refused') {
        await Promise.all(taken.map((r) => releaseQuietly(r, `not carried out: ${result.reason}`)));
        state.decision = refusedAdmission(state.decision, result.reason, result.rule);
        if (result.retryAfterSeconds !== undefined) state.retryAfterSeconds = result.retryAfterSeconds;
        return;
      }
      if (result.reservation) taken.push(result.reservation);
    }
    state.reservation = combineReservations(taken);
  }

  async function admitApproved(outcome: GateOutcome, decision: Decision): Promise<{ decision: Decision; reservation?: Reservation }> {
    const state: Pick<Pending, 'decision' | 'record' | 'reservation'> = { decision, record: { links: [], data: {}, payloads: {} } };
    const view: DecisionView = { attempt: outcome.attempt, input: outcome.input, decision, recordId: outcome.recordId, actionDigest: outcome.actionDigest };
    try {
      await admit(view, 'approval', state);
    } catch (err) {
      // Fail closed: an approval does not carry an action past a plug-in (budget store) that cannot answer.
      return { decision: refusedAdmission(decision, `${(err as Error).message}`, 'gatekeeper.admit') };
    }
    return { decision: state.decision, ...(state.reservation ? { reservation: state.reservation } : {}) };
  }

  async function executed(outcome: GateOutcome, decision: Decision, report: ExecutionReport): Promise<void> {
    if (outcome.index === undefined || executors.length === 0) return;
    const view = { attempt: outcome.attempt, input: outcome.input, decision, recordId: outcome.recordId, actionDigest: outcome.actionDigest, index: outcome.index, payloads: {} };
    for (const h of executors) {
      try {
        await h.executed!(view, report);
      } catch (err) {
        observer?.hookFailed('executed', err);
      }
    }
  }

  /** Runs one hook; its failure becomes a HookError naming the stage. */
  async function stage<T>(name: string, call: () => T | Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      observer?.hookFailed(name, err);
      throw new HookError(`gatekeeper plug-in failed during ${name}: ${(err as Error).message ?? err}`);
    }
  }

  async function releaseQuietly(reservation: Reservation | undefined, reason: string): Promise<void> {
    try {
      await reservation?.release(reason);
    } catch (err) {
      observer?.hookFailed('release', err);
    }
  }

  return { decide: decideTraced, admitApproved, executed, log, clock, observer };
}

class HookError extends Error {}

/**
 * Secrets never reach the ledger: the record's data and every payload are redacted first, and the record says how
 * many values were replaced (`data.redactions`). The action digest was computed over the exact action before.
 */
function redactingLog(log: DecisionLog, redactor: Redactor): DecisionLog {
  return {
    append(record, payloads = {}) {
      const data = redactor.scrub(record.data);
      let count = data.count;
      const kept: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(payloads)) {
        const scrubbed = redactor.scrub(value);
        count += scrubbed.count;
        kept[name] = scrubbed.value;
      }
      const clean = { ...record, ...(record.type === 'decision' ? { reasons: record.reasons.map((r) => redactor.text(r)) } : {}), data: count ? { ...data.value, redactions: count } : data.value };
      return log.append(clean, kept);
    },
  };
}

/** The verdict of a held escalation; any failure while waiting is a deny, never a throw. */
function holdOf(verdict: () => Promise<Decision>, escalated: Decision): Promise<Decision> {
  return verdict().catch((err: unknown) => ({ ...escalated, outcome: 'deny' as const, reasons: [...escalated.reasons, `approval failed: ${(err as Error).message ?? err}`] }));
}

function digestAction(action: OagfInput['action']): { actionDigest: string; problem?: string } {
  try {
    return { actionDigest: digestOf(action) };
  } catch (err) {
    // Not representable as I-JSON (lone surrogate, non-finite number, ...): it cannot be bound to an approval.
    const fallback = `sha256:${createHash('sha256').update(String(JSON.stringify(action))).digest('hex')}`;
    return { actionDigest: fallback, problem: `the action cannot be canonicalized: ${(err as Error).message}` };
  }
}

function merge(into: Required<RecordAdditions>, add: RecordAdditions | undefined): void {
  if (!add) return;
  if (add.links) into.links.push(...add.links);
  if (add.data) Object.assign(into.data, add.data);
  if (add.payloads) Object.assign(into.payloads, add.payloads);
}

/**
 * The session facts a decision used, in the record itself (the payload `input` has all of it, for replay): how much
 * history it saw, the labels in scope and the flows found, each naming the earlier record.
 */
function sessionFacts(session: OagfSession): Record<string, unknown> {
  return {
    id: session.id,
    actions: session.actions.length,
    ...(session.labels.length ? { labels: session.labels.map((l) => ({ label: l.label, source: l.source, from: { id: l.from.id, index: l.from.index } })) } : {}),
    ...(session.flows.length ? { flows: session.flows.map((f) => ({ path: f.path, chars: f.chars, labels: f.labels.map((l) => l.label), from: { id: f.from.id, index: f.from.index } })) } : {}),
  };
}

function recordOf(outcome: GateOutcome, pending: Required<RecordAdditions>, now: Date): DecisionRecord {
  const { decision, input } = outcome;
  const links: RecordLink[] = pending.links;
  return {
    v: 1,
    type: 'decision',
    id: outcome.recordId,
    time: now.toISOString(),
    agent: input.agent.id,
    action_digest: outcome.actionDigest,
    outcome: decision.outcome,
    reasons: decision.reasons,
    // none when no bundle was ever active: the record says so by omitting it (the ledger refuses an empty digest)
    ...(decision.policy_digest ? { policy_digest: decision.policy_digest } : {}),
    ...(links.length ? { links } : {}),
    data: {
      surface: input.context.surface,
      kind: input.action.kind,
      target: input.action.target,
      ...(input.action.amount ? { amount: input.action.amount } : {}),
      ...(decision.obligations.length ? { obligations: decision.obligations } : {}),
      ...(decision.approvers ? { approvers: decision.approvers } : {}),
      ...(decision.explanation.length ? { explanation: decision.explanation } : {}),
      ...(decision.fault ? { fault: decision.fault } : {}),
      ...(Object.keys(input.budgets).length ? { budgets: input.budgets } : {}),
      ...(input.session ? { session: sessionFacts(input.session) } : {}),
      ...pending.data,
    },
  };
}
