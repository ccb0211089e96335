/**
 * The action lifecycle every surface uses: `gate.run(attempt, execute)`.
 *
 *   decide (gate.ts) → wait for a held escalation's verdict → admit what a reviewer approved (budgets reserve now)
 *   → refuse | execute the judged action → settle or release the escrow → record the outcome → typed result
 *
 * A surface supplies only how to read its request into an attempt, how to carry out an allowed action (`execute`,
 * which receives the action exactly as the policy judged it) and how to render a refusal in its protocol. It never
 * touches budgets or approvals: the escrow is settled or released here, exactly once, whichever way `execute` ends.
 */
import type { Decision } from '../spec/index.js';
import type { OutcomeRecord } from '../stores/ledger.js';
import type { Decider, GateOutcome } from './gate.js';
import type { ActionAttempt, ExecutionContext, ExecutionReport, ReleaseProgress } from './hooks.js';
import { refusalOf, type Refusal } from './refusal.js';
import { Escrow } from './reservations.js';

/** How an executed action's escrow closes. */
export type Settlement =
  /** The action took effect: charge its actual cost (`{usage, model}` for LLM calls, `{}` = what was reserved). */
  | { settle: unknown }
  /** It did not (or not wholly): free the escrow; `progress` says how much output already went out. */
  | { release: string; progress?: ReleaseProgress };

export interface Executed<T> {
  value: T;
  settlement: Settlement;
  /** Facts for the outcome record: upstream status, usage, ... (never secrets). */
  facts?: Record<string, unknown>;
  /**
   * False when carrying the action out is only handing it on inside another recorded action (a tool call released
   * in its response: the response's own outcome says what came of it), so it needs no outcome record of its own.
   */
  record?: boolean;
  /** The result as the agent received it (text or parsed JSON), for plug-ins that read results (sessions' `label`). */
  content?: unknown;
}

export type Execute<T> = (ctx: ExecutionContext) => Promise<Executed<T>>;

/** What a surface may learn while the lifecycle runs, to keep its client informed (it cannot change the course). */
export interface RunWatch {
  /** The escalation is recorded and held for a reviewer; called once, before the wait. */
  held?(escalation: { decision: Decision; recordId: string; actionDigest: string }): void;
}

export type RunResult<T> =
  | { ok: true; value: T; outcome: GateOutcome; decision: Decision }
  | { ok: false; refusal: Refusal; outcome: GateOutcome; decision: Decision };

/**
 * Runs one action through the lifecycle. Without `execute` (the decision API: the caller acts on its own) an
 * allowed action's escrow is settled at once for what was reserved, and no outcome is recorded. An `execute` that
 * throws releases the escrow, records a failed outcome, and rethrows for the surface to map.
 */
export async function runLifecycle<T>(gate: Decider, attempt: ActionAttempt, execute?: Execute<T>, watch?: RunWatch): Promise<RunResult<T | undefined>> {
  const outcome = await gate.decide(attempt);
  let decision = outcome.decision;
  let escrow = new Escrow(outcome.reservation);
  if (outcome.hold && decision.outcome === 'escalate') {
    try {
      watch?.held?.({ decision, recordId: outcome.recordId, actionDigest: outcome.actionDigest });
    } catch (err) {
      gate.observer?.hookFailed('held', err);
    }
    decision = await outcome.hold;
    if (decision.outcome === 'allow') {
      const admitted = await gate.admitApproved(outcome, decision);
      decision = admitted.decision;
      escrow = new Escrow(admitted.reservation);
    }
  }
  const refusal = refusalOf(outcome, decision);
  if (refusal) {
    await close(gate, () => escrow.release(`not carried out: ${decision.outcome}`));
    return { ok: false, refusal, outcome, decision };
  }
  if (!execute) {
    await close(gate, () => escrow.settle({}));
    return { ok: true, value: undefined, outcome, decision };
  }

  const ctx: ExecutionContext = {
    action: outcome.input.action,
    decision,
    recordId: outcome.recordId,
    ...(outcome.index !== undefined ? { index: outcome.index } : {}),
    agent: outcome.input.agent,
    context: outcome.input.context,
  };
  const started = performance.now();
  let executed: Executed<T>;
  try {
    executed = await execute(ctx);
  } catch (err) {
    await close(gate, () => escrow.release('the action failed'));
    recordOutcome(gate, outcome, { result: 'failed', error: (err as Error)?.message ?? String(err) }, started);
    await gate.executed(outcome, decision, { result: 'failed' });
    throw err;
  }
  const { settlement } = executed;
  const completed = 'settle' in settlement;
  if (completed) await close(gate, () => escrow.settle(settlement.settle));
  else await close(gate, () => escrow.release(settlement.release, settlement.progress));
  if (executed.record !== false) {
    const data = completed ? { result: 'completed' } : { result: 'released', reason: settlement.release };
    recordOutcome(gate, outcome, { ...data, ...executed.facts }, started);
  }
  await gate.executed(outcome, decision, { ...reportOf(executed, completed), ...(outcome.decision.outcome === 'escalate' ? { approved: true as const } : {}) });
  return { ok: true, value: executed.value, outcome, decision };
}

function reportOf(executed: Executed<unknown>, completed: boolean): ExecutionReport {
  const status = executed.facts?.status;
  const failed = typeof status === 'number' && status >= 400;
  return {
    result: failed ? 'failed' : completed ? 'completed' : 'released',
    ...(typeof status === 'number' ? { status } : {}),
    ...(executed.content !== undefined ? { content: executed.content } : {}),
  };
}

/** Closing the escrow after the action happened must not turn it into an error for the agent: log it instead. */
async function close(gate: Decider, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    gate.observer?.hookFailed('settle', err);
  }
}

/**
 * The outcome record is not on the critical path: the decision was durable before the action, and the agent's
 * answer does not wait for this append (it joins the ledger's next group commit, and a clean shutdown flushes it).
 * A crash in between leaves a decision without an outcome: "outcome unknown".
 */
function recordOutcome(gate: Decider, outcome: GateOutcome, data: Record<string, unknown>, started: number): void {
  if (outcome.index === undefined) return;
  const record: OutcomeRecord = {
    v: 1,
    type: 'outcome',
    id: `${outcome.recordId}.outcome`,
    time: gate.clock().toISOString(),
    agent: outcome.input.agent.id,
    action_digest: outcome.actionDigest,
    links: [{ rel: 'decision', id: outcome.recordId, index: outcome.index }],
    data: { surface: outcome.input.context.surface, kind: outcome.input.action.kind, duration_ms: Math.round(performance.now() - started), ...data },
  };
  gate.log.append(record).catch((err: unknown) => gate.observer?.hookFailed('outcome', err));
}
