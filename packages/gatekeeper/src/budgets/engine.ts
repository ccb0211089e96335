/**
 * Budget engine: works out which budgets an action falls under, what it could cost at
 * worst, shows that to policy, and holds it in escrow until the action's real cost is known.
 */
import { randomUUID } from 'node:crypto';
import type { OagfInput } from '../spec/index.js';
import type { BudgetLimit, BudgetsConfig, ModelPrice } from './config.js';
import { estimateTextTokens, worstCaseUsage } from './estimate.js';
import { formatMicros, toMicros } from './money.js';
import { costMicros, isRecord, priceFor, readUsage, type TokenUsage } from './pricing.js';
import type { InputBudgets, BudgetView } from './schema.js';
import type { ActualByMeter, BudgetStore, CounterState, Meter, ReservationLine } from '../stores/budgets.js';
import { isAccumulating, windowBounds, type WindowBounds } from './windows.js';

export type Clock = () => number;

/** One budget that applies to one action, in its current window. */
export interface AppliedBudget {
  limit: BudgetLimit;
  subject: string;
  currency: string;
  bounds: WindowBounds;
}

/** What an action could cost at worst, per meter; an `error` means it cannot be priced (fail closed). */
interface Requested {
  llm_spend?: { micros: bigint; price: ModelPrice; prompt: TokenUsage; model: string } | { error: string };
  action_amount?: { micros: bigint; currency: string } | { error: string };
  requests?: { micros: bigint };
  llm_tokens?: { micros: bigint; prompt: TokenUsage };
}

/** Rate-limit meters count requests and tokens (not money); exceeding one is "too many requests", not a denial. */
export const RATE_METERS: ReadonlySet<Meter> = new Set(['requests', 'llm_tokens']);

/** One request or one token, in the store's millionths. */
const UNIT = 1_000_000n;

export interface SettleInput {
  /** The response's `usage` object (chat completions, responses, embeddings, or a stream's final chunk). */
  usage?: unknown;
  /** Model the upstream reports; priced when the price table knows it, else the requested model's price. */
  model?: string;
  /** Characters of output already delivered, for `charge_estimate` when no usage arrived. */
  outputChars?: number;
}

export interface ReleaseProgress {
  /** True once any response bytes went to the agent: the upstream has then charged for tokens. */
  streamed?: boolean;
  outputChars?: number;
}

export interface BudgetReservation {
  readonly id: string;
  /** Worst case held, per meter, in micros. */
  readonly held: ActualByMeter;
  settle(actual?: SettleInput): Promise<void>;
  release(reason: string, progress?: ReleaseProgress): Promise<void>;
}

export type ReserveOutcome =
  | { ok: true; reservation: BudgetReservation | undefined }
  /** `retryAfterSeconds`: a rate limit was hit; its window ends then. */
  | { ok: false; reason: string; retryAfterSeconds?: number };

export interface BudgetsOptions {
  clock?: Clock;
  /** Called when a reservation closes in an unexpected way (e.g. settled after it expired). */
  onWarning?: (message: string, detail: Record<string, unknown>) => void;
}

export class Budgets {
  readonly clock: Clock;
  private readonly onWarning: NonNullable<BudgetsOptions['onWarning']>;

  constructor(
    readonly config: BudgetsConfig,
    readonly store: BudgetStore,
    options: BudgetsOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.onWarning = options.onWarning ?? (() => {});
  }

  /** Budgets this action is counted against, given the meters it uses. */
  applicable(input: OagfInput, now = this.clock()): AppliedBudget[] {
    const meters = metersOf(input);
    const out: AppliedBudget[] = [];
    for (const limit of this.config.limits) {
      if (!meters.has(limit.meter)) continue;
      if (limit.kinds ? !limit.kinds.includes(input.action.kind) : !countsByDefault(limit, input.action.kind)) continue;
      const subject = subjectOf(limit, input);
      if (subject === undefined) continue;
      if (limit.subject !== undefined && limit.subject !== subject) continue;
      out.push({ limit, subject, currency: limit.currency ?? this.config.currency, bounds: windowBounds(limit.window, now) });
    }
    return out;
  }

  /**
   * `input.budgets` for this action: state of every applicable budget, and the tightest per meter and window.
   * `llmRequest` adds request fields the action document leaves out (the prompt text) to the estimate.
   */
  async view(input: OagfInput, llmRequest?: Record<string, unknown>): Promise<InputBudgets> {
    const applied = this.applicable(input);
    const requested = this.requested(input, llmRequest);
    const states = await this.store.counters(applied.filter((a) => isAccumulating(a.limit.window)).map(counterKey));
    const byKey = new Map(states.map((s) => [`${s.budgetId}\u0000${s.subject}`, s]));
    const views = applied.map((a) => {
      const state = byKey.get(`${a.limit.id}\u0000${a.subject}`);
      return toView(a, state, requestedMicros(requested, a));
    });
    return summarize(views);
  }

  /**
   * Checks and holds the worst case on every applicable budget in one atomic store step.
   * Returns no reservation when no budget applies.
   */
  async reserve(input: OagfInput, llmRequest?: Record<string, unknown>): Promise<ReserveOutcome> {
    const now = this.clock();
    const applied = this.applicable(input, now);
    if (applied.length === 0) return { ok: true, reservation: undefined };
    const requested = this.requested(input, llmRequest);
    const lines: ReservationLine[] = [];
    for (const a of applied) {
      const need = requested[a.limit.meter];
      if (!need) continue;
      if ('error' in need) return { ok: false, reason: `budget ${a.limit.id}: ${need.error}` };
      if ('currency' in need && need.currency !== a.currency) {
        return {
          ok: false,
          reason: `budget ${a.limit.id} counts ${a.currency}, but the action's amount is in ${need.currency}`,
        };
      }
      if (!isAccumulating(a.limit.window)) {
        if (need.micros > a.limit.cap) return { ok: false, reason: exceeded(a, 0n, 0n, need.micros, now) };
        continue;
      }
      lines.push({ ...counterKey(a), meter: a.limit.meter, cap: a.limit.cap, amount: need.micros });
    }
    if (lines.length === 0) return { ok: true, reservation: undefined };
    const id = randomUUID();
    const result = await this.store.reserve({
      id,
      lines,
      now,
      expiresAt: now + this.config.reservation_ttl_seconds * 1000,
    });
    if (!result.ok) {
      const a = applied.find((x) => x.limit.id === result.line.budgetId)!;
      const reason = exceeded(a, result.counter.committed, result.counter.reserved, result.line.amount, now);
      if (!RATE_METERS.has(a.limit.meter) || a.bounds.end === null) return { ok: false, reason };
      return { ok: false, reason, retryAfterSeconds: Math.max(1, Math.ceil((a.bounds.end - now) / 1000)) };
    }
    const held: ActualByMeter = {};
    for (const line of lines) held[line.meter] = line.amount;
    const llm = requested.llm_spend && !('error' in requested.llm_spend) ? requested.llm_spend : undefined;
    return { ok: true, reservation: this.handle(id, held, llm, held.llm_tokens !== undefined ? requested.llm_tokens!.prompt : undefined) };
  }

  private handle(id: string, held: ActualByMeter, llm: { price: ModelPrice; prompt: TokenUsage } | undefined, tokens: TokenUsage | undefined): BudgetReservation {
    let closed = false;
    const once = async (fn: () => Promise<unknown>) => {
      if (closed) return;
      closed = true;
      await fn();
    };
    const charge = async (actual: ActualByMeter, detail: Record<string, unknown>) => {
      const r = await this.store.settle(id, actual, this.clock());
      if (r.status === 'settled_after_expiry' || r.status === 'not_open') {
        this.onWarning('budget reservation was no longer open when settled', { reservation: id, ...r, ...detail });
      }
    };
    /** What the LLM meters are charged for a call with this usage (the other meters: what was reserved). */
    const forUsage = (usage: TokenUsage, price: ModelPrice | undefined, capAtHeld: boolean): ActualByMeter => {
      const out: ActualByMeter = {};
      const cap = (v: bigint, h: bigint | undefined) => (capAtHeld ? minBig(v, h ?? 0n) : v);
      if (llm && price) out.llm_spend = cap(costMicros(price, usage), held.llm_spend);
      if (tokens) out.llm_tokens = cap(BigInt(usage.input + usage.cachedInput + usage.output) * UNIT, held.llm_tokens);
      return out;
    };
    const estimateOrHeld = (outputChars: number | undefined): ActualByMeter => {
      const prompt = llm?.prompt ?? tokens;
      if (!prompt || outputChars === undefined) return {};
      return forUsage({ ...prompt, output: estimateTextTokens(this.config, outputChars) }, llm?.price, true);
    };
    const metered = llm !== undefined || tokens !== undefined;
    return {
      id,
      held,
      settle: (given?: unknown) =>
        once(async () => {
          // Surfaces pass what they have ({usage, model}, {} or {delivered: true}); anything else counts as no usage.
          const actual: SettleInput = isRecord(given) ? given : {};
          const usage = readUsage(actual.usage);
          if (metered && usage) {
            const price = (actual.model && priceFor(this.config, actual.model)) || llm?.price;
            await charge(forUsage(usage, price, false), {});
          } else if (metered && this.config.stream_cut === 'charge_estimate') {
            await charge(estimateOrHeld(actual.outputChars), { missing: 'usage' });
          } else {
            // No usage to go by: charge the worst case held rather than guess low.
            await charge({}, metered ? { missing: 'usage' } : {});
          }
        }),
      release: (reason, progress) =>
        once(async () => {
          if (!progress?.streamed || !metered || this.config.stream_cut === 'release') {
            await this.store.release(id, reason, this.clock());
          } else if (this.config.stream_cut === 'charge_estimate') {
            await charge(estimateOrHeld(progress.outputChars ?? 0), { cut: reason });
          } else {
            await charge({}, { cut: reason });
          }
        }),
    };
  }

  private requested(input: OagfInput, llmRequest?: Record<string, unknown>): Requested {
    const out: Requested = {};
    const meters = metersOf(input);
    if (meters.has('llm_spend')) out.llm_spend = this.llmWorstCase(input, llmRequest);
    if (meters.has('action_amount')) out.action_amount = actionAmount(input);
    out.requests = { micros: UNIT };
    if (meters.has('llm_tokens')) {
      const body = { ...(isRecord(input.action.arguments) ? input.action.arguments : {}), ...llmRequest };
      const model = input.action.target.model ?? (typeof body.model === 'string' ? body.model : '');
      const embeddings = /embeddings$/.test(input.action.target.path ?? '');
      const worst = worstCaseUsage(this.config, body, priceFor(this.config, model)?.max_output_tokens, embeddings);
      out.llm_tokens = { micros: BigInt(worst.input + worst.output) * UNIT, prompt: { ...worst, output: 0 } };
    }
    return out;
  }

  private llmWorstCase(input: OagfInput, llmRequest?: Record<string, unknown>): NonNullable<Requested['llm_spend']> {
    const body = { ...(isRecord(input.action.arguments) ? input.action.arguments : {}), ...llmRequest };
    const model = input.action.target.model ?? (typeof body.model === 'string' ? body.model : undefined);
    if (!model) return { error: 'the LLM request names no model to price' };
    const price = priceFor(this.config, model);
    if (!price) return { error: `no price configured for model "${model}" (add it under budgets.prices)` };
    const embeddings = /embeddings$/.test(input.action.target.path ?? '');
    const worst = worstCaseUsage(this.config, body, price.max_output_tokens, embeddings);
    return { micros: costMicros(price, worst), price, prompt: { ...worst, output: 0 }, model };
  }

  /** Every counter of every configured budget in its current window, for the API, CLI and metrics. */
  async overview(): Promise<BudgetView[]> {
    const now = this.clock();
    const views: BudgetView[] = [];
    for (const limit of this.config.limits) {
      const bounds = windowBounds(limit.window, now);
      const currency = limit.currency ?? this.config.currency;
      if (!isAccumulating(limit.window)) {
        views.push(toView({ limit, subject: limit.subject ?? '*', currency, bounds }, undefined, null));
        continue;
      }
      const states = await this.store.countersInWindow(limit.id, bounds.start);
      const wanted = limit.subject === undefined ? states : states.filter((s) => s.subject === limit.subject);
      if (wanted.length === 0) {
        // Nothing spent yet in this window: still show the cap ('*' = each agent/team/chain).
        views.push(toView({ limit, subject: limit.subject ?? '*', currency, bounds }, undefined, null));
      }
      for (const s of wanted) views.push(toView({ limit, subject: s.subject, currency, bounds }, s, null));
    }
    return views;
  }
}

function metersOf(input: OagfInput): Set<Meter> {
  const meters = new Set<Meter>(['requests']);
  if (input.action.kind === 'llm.request') {
    meters.add('llm_spend');
    meters.add('llm_tokens');
  }
  if (input.action.amount) meters.add('action_amount');
  return meters;
}

/** A requests limit without `kinds` counts what agents send, not the calls a model proposes inside a response. */
function countsByDefault(limit: BudgetLimit, kind: string): boolean {
  return limit.meter !== 'requests' || kind === 'llm.request' || !kind.startsWith('llm.');
}

function subjectOf(limit: BudgetLimit, input: OagfInput): string | undefined {
  switch (limit.scope) {
    case 'agent':
      return input.agent.id;
    case 'team':
      return input.agent.team;
    case 'chain':
      // A delegation chain is charged to the agent that started it, whoever spends along the way.
      return input.agent.delegation[0]?.agent ?? input.agent.id;
  }
}

function actionAmount(input: OagfInput): NonNullable<Requested['action_amount']> {
  const amount = input.action.amount!;
  try {
    const micros = toMicros(amount.value, 'action amount', 'up');
    if (micros < 0n) return { error: `the action's amount ${amount.value} is negative` };
    return { micros, currency: amount.currency };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function counterKey(a: AppliedBudget) {
  return { budgetId: a.limit.id, subject: a.subject, windowStart: a.bounds.start };
}

function requestedMicros(requested: Requested, a: AppliedBudget): bigint | null {
  const need = requested[a.limit.meter];
  if (!need || 'error' in need) return null;
  if ('currency' in need && need.currency !== a.currency) return null;
  return need.micros;
}

function exceeded(a: AppliedBudget, spent: bigint, reserved: bigint, needed: bigint, now: number): string {
  const who = a.limit.subject === undefined ? ` for ${a.limit.scope} ${a.subject}` : '';
  if (RATE_METERS.has(a.limit.meter)) {
    const what = a.limit.meter === 'requests' ? 'requests' : 'LLM tokens';
    const retry = a.bounds.end === null ? '' : `; the ${a.limit.window} window ends in ${Math.max(1, Math.ceil((a.bounds.end - now) / 1000))} s`;
    return `rate limit ${a.limit.id} exceeded${who}: ${formatCount(a.limit.cap)} ${what} per ${a.limit.window}, ${formatCount(spent + reserved)} used${retry}`;
  }
  return (
    `budget ${a.limit.id} (${a.limit.window}) exceeded${who}: cap ${formatMicros(a.limit.cap)} ${a.currency}, ` +
    `spent ${formatMicros(spent)}, reserved ${formatMicros(reserved)}, needed ${formatMicros(needed)}`
  );
}

/** A count meter's millionths as a whole count (requests, tokens). */
function formatCount(micros: bigint): string {
  return (micros / 1_000_000n).toString();
}

function toView(a: AppliedBudget, state: CounterState | undefined, requested: bigint | null): BudgetView {
  const spent = state?.committed ?? 0n;
  const reserved = state?.reserved ?? 0n;
  const remaining = maxBig(a.limit.cap - spent - reserved, 0n);
  const timed = a.bounds.end !== null && a.limit.window !== 'call';
  return {
    budget: a.limit.id,
    scope: a.limit.scope,
    subject: a.subject,
    meter: a.limit.meter,
    window: a.limit.window,
    window_start: timed ? new Date(a.bounds.start).toISOString() : null,
    window_end: timed ? new Date(a.bounds.end!).toISOString() : null,
    currency: a.currency,
    cap: major(a.limit.cap),
    spent: major(spent),
    reserved: major(reserved),
    remaining: major(remaining),
    requested: requested === null ? null : major(requested),
  };
}

function summarize(views: BudgetView[]): InputBudgets {
  if (views.length === 0) return {};
  const out: InputBudgets = { limits: views };
  for (const v of views) {
    const slot = (out[v.meter] ??= {});
    const current = slot[v.window];
    if (!current || v.remaining < current.remaining) slot[v.window] = v;
  }
  return out;
}

/** Major units for people and policies; exact for any amount below 2^53 micros. */
function major(micros: bigint): number {
  return Number(formatMicros(micros));
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
