/**
 * What plug-ins (budgets, approvals, ...) may do inside the gate, stage by stage. Every hook returns a value;
 * none mutates the outcome. The gate applies the values in a fixed order of stages:
 *
 *   enrich → policy → observe → escalate → admit → record → committed (→ executed, once carried out)
 *
 * and, within a stage, in the plug-ins' declared order (see order.ts). A hook that throws turns the decision into
 * a deny with fault `hook_error` (in `committed`, the error is only logged: the decision is already recorded).
 */
import type { RecordLink } from '../stores/ledger.js';
import type { GateOutcome } from './gate.js';
import type { AgentIdentity, Decision, OagfAction, OagfContext, OagfInput } from '../spec/index.js';

/** The surface an action arrived on (the spec's `context.surface`). */
export type Surface = NonNullable<OagfContext['surface']>;

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
  /** The HTTP request's entry in the request log, which counts the request's decisions; the gate only carries it. */
  requestNote?: RequestNote;
}

export interface RequestNote {
  decisions: number;
  first?: GateOutcome;
}

/** Budget escrow (or any hold) taken for an allowed action; the lifecycle settles or releases it exactly once. */
export interface Reservation {
  /** Settle to the actual cost (shape defined by the plug-in that took it) and release the rest. */
  settle(actual: unknown): Promise<void>;
  /**
   * Release it (upstream error, cancel, timeout). `progress.streamed` says output already went out, so the
   * upstream did charge: the budgets plug-in then applies its `stream_cut` rule instead of freeing everything.
   */
  release(reason: string, progress?: ReleaseProgress): Promise<void>;
}

export interface ReleaseProgress {
  streamed?: boolean;
  outputChars?: number;
}

/** What a plug-in adds to the decision record before it is appended. */
export interface RecordAdditions {
  links?: RecordLink[];
  /** Merged into record.data under each key. */
  data?: Record<string, unknown>;
  /** Extra ledger payloads by name (`input` is always written by the gate). */
  payloads?: Record<string, unknown>;
}

/** The input fields plug-ins may fill before the policy runs. */
export type InputAdditions = Partial<Pick<OagfInput, 'budgets' | 'session'>>;

/** A decision as hooks see it: read-only. */
export interface DecisionView {
  readonly attempt: ActionAttempt;
  readonly input: OagfInput;
  readonly decision: Decision;
  readonly recordId: string;
  readonly actionDigest: string;
}

/** What an escalation turned into. */
export type EscalationResult =
  /** The agent retried with an approval that covers exactly this action: the decision becomes allow. */
  | { kind: 'redeemed'; decision: Decision; record?: RecordAdditions }
  /** The approval it retried with cannot be used (another action, rejected, used up, ...). */
  | { kind: 'refused'; decision: Decision; record?: RecordAdditions }
  /**
   * A reviewer must decide. `hold`: the lifecycle waits on `verdict()` (called once the record is durable);
   * `async`: the agent is told to retry with the approval id (HTTP 202).
   */
  | { kind: 'pending'; approval: PendingApproval; mode: 'hold' | 'async'; verdict?: () => Promise<Decision>; record?: RecordAdditions };

export interface PendingApproval {
  id: string;
  retryAfterSeconds?: number;
}

export type Admission =
  | { kind: 'admitted'; reservation?: Reservation; record?: RecordAdditions }
  /**
   * The allow turns into a deny with this reason, attributed to `rule` in the explanation. `retryAfterSeconds`:
   * a rate limit, not a denial — the agent may retry then (429 with Retry-After).
   */
  | { kind: 'refused'; reason: string; rule: string; retryAfterSeconds?: number; record?: RecordAdditions };

/** When an action is admitted: right after the policy allowed it, or once a reviewer approved a held one. */
export type AdmitWhen = 'decision' | 'approval';

export interface GateHooks {
  /** Fills input fields before the policy reads them (budgets: `input.budgets`; sessions: `input.session`). `actionDigest`: of `input.action`. */
  enrich?(input: Readonly<OagfInput>, attempt: ActionAttempt, actionDigest: string): Promise<InputAdditions | void> | InputAdditions | void;
  /** Sees every policy decision before escalation and admission (the approvals' trace recorder). */
  observe?(view: DecisionView): void;
  /** The policy escalated: redeem the approval the agent retries with, or open a new one. First answer wins. */
  escalate?(view: DecisionView): Promise<EscalationResult | void> | EscalationResult | void;
  /** The action is allowed: take what it needs before it is carried out (budget escrow), or refuse it. */
  admit?(view: DecisionView, when: AdmitWhen): Promise<Admission | void> | Admission | void;
  /**
   * Fields of the ledger's `input` payload kept in another form than the policy read them (sessions: the history
   * by reference to earlier payloads); replay rebuilds them. Pure: no I/O.
   */
  ledgerInput?(input: Readonly<OagfInput>): Record<string, unknown> | void;
  /** The decision record is durable (approvals open the request and send notices). */
  committed?(view: CommittedView): Promise<void> | void;
  /** The allowed action was carried out (sessions: its outcome and its result's fingerprints); errors are only logged. */
  executed?(view: CommittedView, report: ExecutionReport): Promise<void> | void;
}

/** What came of an action the lifecycle carried out. */
export interface ExecutionReport {
  result: 'completed' | 'failed' | 'released';
  /** Upstream status, where there is one. */
  status?: number;
  /** It was carried out after a reviewer approved its escalation. */
  approved?: true;
  /** The result as the agent received it, when the surface read it (it does when a `label` obligation asks). */
  content?: unknown;
}

export interface CommittedView extends DecisionView {
  readonly index: number;
  /** The approval the agent now waits for (opened by escalate, or the one it retried with, still pending). */
  readonly pending?: PendingApproval;
  /** The payloads committed with the record (e.g. the reasoning trace). */
  readonly payloads: Readonly<Record<string, unknown>>;
}

/** A plug-in's hooks with its name and the plug-ins whose hooks must run before its own, stage by stage. */
export interface NamedHooks {
  name: string;
  after?: string[];
  hooks: GateHooks;
}

export interface ExecutionContext {
  /** The action exactly as the policy judged it: build the upstream call from this, never from the raw request. */
  action: OagfAction;
  decision: Decision;
  recordId: string;
  index?: number;
  agent: AgentIdentity;
  context: OagfContext;
}
