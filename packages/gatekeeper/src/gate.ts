/**
 * The gate: the single path every surface (OpenAI-compatible, API proxy, decision API, MCP) sends an agent's
 * action through. One call to `decide()`:
 *
 *   1. builds the OAGF input document (spec/input.ts) from the attempt;
 *   2. runs every plug-in's `enrichInput` (budgets fill `input.budgets`);
 *   3. evaluates the active policy bundle (`data.oagf.decision`), validating its output;
 *   4. runs every plug-in's `afterDecision`, which may change the decision (budgets reserve escrow and turn an
 *      allow into a deny when the reservation does not fit; approvals turn an approved escalation into allow,
 *      attach `hold`), add record links/data/payloads, and set `reservation`;
 *   5. appends the decision record to the ledger, with the full input document as payload `input` — and only
 *      resolves once that append is durable, so the surface forwards only recorded actions;
 *   6. runs every plug-in's `afterCommit` (approvals open the request and send notices).
 *
 * It never throws. Every fault becomes a deny carrying `fault` (→ HTTP 503, unknown agent → 401): no bundle,
 * policy error, evaluation over budget, malformed policy output, a plug-in error, a ledger failure. A ledger record
 * is written for faults too, whenever the ledger itself still works.
 *
 * Plug-ins are registered once, when the server is built (see `MODULES` in server.ts): a module's `setup()` returns
 * `{ hooks }` and the server passes all hooks to `createGate`. Hooks run in registration order. `enrichInput` and
 * `afterDecision` are skipped once a fault has occurred; `afterCommit` runs only for durably recorded decisions
 * and its errors are logged, never changing the decision that was already recorded.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DecisionLog, RecordLink } from './decision-log.js';
import { digestOf } from './digest.js';
import { PolicyEvalError, type PolicyEvaluator, type PolicySource } from './policy/engine.js';
import {
  PolicyResult,
  timeOf,
  type AgentIdentity,
  type Decision,
  type GateFault,
  type OagfAction,
  type OagfContext,
  type OagfInput,
} from './spec/index.js';

export type Surface = 'openai' | 'api' | 'decision' | 'mcp';

export interface ActionAttempt {
  agent: AgentIdentity;
  action: OagfAction;
  context: OagfContext;
  surface: Surface;
  /** Set when the caller could not be authenticated: the gate records a deny (fault unknown_agent) with this reason. */
  unauthenticated?: string;
  /** The conversation that led to the action (messages, reasoning, earlier tool calls) for the approvals plug-in. */
  trace?: unknown;
  /** Value of the agent's `OAGF-Approval` header: an approval id it retries with. */
  approval?: string;
}

export interface Reservation {
  /** Settle the escrow to the actual cost (shape defined by the budgets plug-in) and release the rest. */
  settle(actual: unknown): Promise<void>;
  /**
   * Release the escrow (upstream error, cancel, timeout). `progress.streamed` says output already went out, so the
   * upstream did charge: the budgets plug-in then applies its `stream_cut` rule instead of freeing everything.
   */
  release(reason: string, progress?: { streamed?: boolean; outputChars?: number }): Promise<void>;
}

export interface GateOutcome {
  decision: Decision;
  input: OagfInput;
  /** Id of the ledger record (assigned before the append, so plug-ins can link to it). */
  recordId: string;
  /** Ledger index once the record is durable; undefined when it could not be written. */
  index?: number;
  /** sha256:<hex> of the canonical action document. */
  actionDigest: string;
  fault?: GateFault;
  /** For escalations held open: resolves to the final decision once a reviewer decides (or it expires). */
  hold?: Promise<Decision>;
  /** For asynchronous escalations: the approval the agent retries with (`OAGF-Approval: <id>`) → HTTP 202. */
  approval?: { id: string; retryAfterSeconds?: number };
  /** Budget escrow taken for an allowed action; the surface settles or releases it after the upstream call. */
  reservation?: Reservation;
}

/** What plug-ins may add to the decision record before it is appended. */
export interface PendingRecord {
  links: RecordLink[];
  /** Merged into record.data under each key. */
  data: Record<string, unknown>;
  /** Extra ledger payloads by name (`input` is always written by the gate). */
  payloads: Record<string, unknown>;
}

export interface GateHooks {
  enrichInput?(input: OagfInput, attempt: ActionAttempt): Promise<void> | void;
  afterDecision?(outcome: GateOutcome, attempt: ActionAttempt, record: PendingRecord): Promise<void> | void;
  afterCommit?(outcome: GateOutcome, attempt: ActionAttempt): Promise<void> | void;
}

export interface Gate {
  /** Never throws: faults become a deny with `fault`. */
  decide(attempt: ActionAttempt): Promise<GateOutcome>;
}

export interface GateObserver {
  decided(outcome: GateOutcome, elapsedMs: number): void;
  hookFailed(stage: string, err: unknown): void;
}

export interface GateOptions {
  policy: PolicySource;
  log: DecisionLog;
  hooks?: GateHooks[];
  clock?: () => Date;
  observer?: GateObserver;
}

export function createGate(options: GateOptions): Gate {
  const { policy, log, hooks = [], clock = () => new Date(), observer } = options;

  /** Last line of defence for "never throws": an unexpected error still yields a fail-closed deny. */
  async function decideSafely(attempt: ActionAttempt): Promise<GateOutcome> {
    try {
      return await decide(attempt);
    } catch (err) {
      observer?.hookFailed('decide', err);
      const decision = faultDecision('internal_error', `the gatekeeper failed to decide: ${(err as Error)?.message ?? err}`, '');
      const input: OagfInput = { version: 'oagf/v1', agent: attempt.agent, action: attempt.action, context: attempt.context, budgets: {}, time: timeOf(new Date()) };
      const outcome: GateOutcome = { decision, fault: decision.fault, input, recordId: randomUUID(), actionDigest: '' };
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
      action: attempt.action,
      context: { ...attempt.context, surface: attempt.surface },
      budgets: {},
      time: timeOf(now),
    };
    const evaluator = policy.current();
    const digest = evaluator?.digest ?? '';
    const outcome: GateOutcome = {
      decision: faultDecision('no_policy', 'no policy bundle is loaded', digest),
      input,
      recordId: randomUUID(),
      actionDigest: '',
    };
    const record: PendingRecord = { links: [], data: {}, payloads: {} };

    const fail = (code: GateFault['code'], message: string) => {
      outcome.decision = faultDecision(code, message, digest);
      outcome.fault = outcome.decision.fault;
      outcome.hold = undefined;
      outcome.approval = undefined;
    };

    let digestProblem: string | undefined;
    try {
      outcome.actionDigest = digestOf(attempt.action);
    } catch (err) {
      // Not representable as I-JSON (lone surrogate, non-finite number, ...): it cannot be bound to an approval.
      digestProblem = `the action cannot be canonicalized: ${(err as Error).message}`;
      outcome.actionDigest = `sha256:${createHash('sha256').update(String(JSON.stringify(attempt.action))).digest('hex')}`;
    }

    if (attempt.unauthenticated !== undefined) fail('unknown_agent', attempt.unauthenticated);
    else if (digestProblem) fail('invalid_action', digestProblem);
    else if (!evaluator) fail('no_policy', 'no policy bundle is loaded');
    else {
      const stage = await runHooks('enrichInput', (h) => h.enrichInput?.(input, attempt));
      if (stage) fail('hook_error', stage);
      else {
        const evaluated = evaluate(evaluator, input);
        if ('fault' in evaluated) fail(evaluated.fault.code, evaluated.fault.message);
        else {
          outcome.decision = evaluated.decision;
          const after = await runHooks('afterDecision', (h) => h.afterDecision?.(outcome, attempt, record));
          if (after) {
            await releaseQuietly(outcome, 'plug-in failure');
            fail('hook_error', after);
          }
        }
      }
    }

    try {
      const { index } = await log.append(recordOf(outcome, record, now), { ...record.payloads, input });
      outcome.index = index;
    } catch (err) {
      await releaseQuietly(outcome, 'ledger failure');
      outcome.reservation = undefined;
      fail('ledger_failure', `the decision could not be recorded in the ledger: ${(err as Error).message ?? err}`);
      observer?.decided(outcome, performance.now() - started);
      return outcome;
    }

    for (const h of hooks) {
      try {
        await h.afterCommit?.(outcome, attempt);
      } catch (err) {
        observer?.hookFailed('afterCommit', err);
      }
    }
    observer?.decided(outcome, performance.now() - started);
    return outcome;
  }

  /** Runs one hook stage; returns a fault message when a hook throws. */
  async function runHooks(stage: string, call: (h: GateHooks) => unknown): Promise<string | undefined> {
    for (const h of hooks) {
      try {
        await call(h);
      } catch (err) {
        observer?.hookFailed(stage, err);
        return `gatekeeper plug-in failed during ${stage}: ${(err as Error).message ?? err}`;
      }
    }
    return undefined;
  }

  async function releaseQuietly(outcome: GateOutcome, reason: string): Promise<void> {
    try {
      await outcome.reservation?.release(reason);
    } catch (err) {
      observer?.hookFailed('release', err);
    }
    outcome.reservation = undefined;
  }

  return { decide: decideSafely };
}

export type Evaluated = { decision: Decision } | { fault: GateFault };

/** Evaluates the policy on an input and validates its output; also used by `policy eval` and `replay`. */
export function evaluate(evaluator: PolicyEvaluator, input: OagfInput): Evaluated {
  let value: unknown;
  let explanation: Decision['explanation'];
  try {
    ({ value, explanation } = evaluator.evaluate(input));
  } catch (err) {
    if (err instanceof PolicyEvalError) return { fault: { code: err.code, message: err.message } };
    return { fault: { code: 'policy_error', message: `policy evaluation failed: ${(err as Error).message ?? err}` } };
  }
  if (value === undefined) {
    return { fault: { code: 'policy_output', message: 'the policy produced no decision (data.oagf.decision is undefined)' } };
  }
  const parsed = PolicyResult.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { fault: { code: 'policy_output', message: `the policy decision is malformed: ${problems}` } };
  }
  return { decision: { ...parsed.data, policy_digest: evaluator.digest, explanation } };
}

export function faultDecision(code: GateFault['code'], message: string, policyDigest: string): Decision {
  return {
    outcome: 'deny',
    reasons: [message],
    obligations: [],
    policy_digest: policyDigest,
    explanation: [],
    fault: { code, message },
  };
}

function recordOf(outcome: GateOutcome, pending: PendingRecord, now: Date) {
  const { decision, input } = outcome;
  return {
    v: 1 as const,
    type: 'decision' as const,
    id: outcome.recordId,
    time: now.toISOString(),
    agent: input.agent.id,
    action_digest: outcome.actionDigest,
    outcome: decision.outcome,
    reasons: decision.reasons,
    policy_digest: decision.policy_digest,
    ...(pending.links.length ? { links: pending.links } : {}),
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
      ...pending.data,
    },
  };
}
