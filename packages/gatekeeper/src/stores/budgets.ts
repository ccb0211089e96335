/**
 * Persistence for budget counters and reservations. Methods are async so a networked
 * backend (PostgreSQL) can implement the same contract; each method is one atomic step.
 */
/**
 * What a budget counts: LLM spend and action amounts (money, in micro-units), or — as rate limits — requests and
 * LLM tokens (counts, in millionths, so every meter is an integer amount of micro-units).
 */
export type Meter = 'llm_spend' | 'action_amount' | 'requests' | 'llm_tokens';

/** Identifies one running total: a budget, the subject it is counted for, and a window. */
export interface CounterKey {
  budgetId: string;
  /** Whose spend: an agent id, team id or delegation-chain root, depending on the budget's scope. */
  subject: string;
  /** Epoch ms of the window start (0 for lifetime). */
  windowStart: number;
}

export interface CounterState extends CounterKey {
  /** Settled spend, in micros. */
  committed: bigint;
  /** Spend held by open reservations, in micros. */
  reserved: bigint;
}

export interface ReservationLine extends CounterKey {
  meter: Meter;
  /** Cap for this counter, in micros. committed + reserved + amount must stay ≤ cap. */
  cap: bigint;
  /** Worst-case amount to hold, in micros. */
  amount: bigint;
}

export interface ReserveRequest {
  id: string;
  lines: ReservationLine[];
  /** Epoch ms; used to expire overdue reservations and stamp this one. */
  now: number;
  /** Epoch ms after which the hold lapses if never settled or released. */
  expiresAt: number;
}

export type ReserveResult =
  | { ok: true; counters: CounterState[] }
  | { ok: false; line: ReservationLine; counter: CounterState };

/** Actual spend per meter; a meter not given is charged what was reserved for it. */
export type ActualByMeter = Partial<Record<Meter, bigint>>;

export type CloseResult =
  | { status: 'settled' | 'released'; charged: bigint }
  /** The reservation had lapsed; its actual spend is still recorded (the money was spent). */
  | { status: 'settled_after_expiry'; charged: bigint }
  | { status: 'not_open'; state: ReservationState | 'unknown' };

export type ReservationState = 'open' | 'settled' | 'released' | 'expired';

export interface BudgetStore {
  /**
   * Checks every line against its cap and holds all amounts, or none: one atomic step,
   * correct however many processes share the store. Overdue reservations are expired first.
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /** Moves a reservation's amounts from reserved to committed at the actual cost. */
  settle(id: string, actual: ActualByMeter, now: number): Promise<CloseResult>;
  /** Drops a reservation's holds without charging anything. */
  release(id: string, reason: string, now: number): Promise<CloseResult>;
  /** Expires overdue open reservations; returns how many lapsed. */
  expire(now: number): Promise<number>;
  /** Current totals for the given keys (zeros for counters never touched). */
  counters(keys: CounterKey[]): Promise<CounterState[]>;
  /** All counters of one budget in one window, e.g. every agent's spend today. */
  countersInWindow(budgetId: string, windowStart: number): Promise<CounterState[]>;
  close(): Promise<void>;
}

export function keyOf(k: CounterKey): string {
  return `${k.budgetId}\u0000${k.subject}\u0000${k.windowStart}`;
}
