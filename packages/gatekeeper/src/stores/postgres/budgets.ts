/**
 * The budget store on PostgreSQL. Each step is one call of a function the migration created (schema.ts): check and
 * hold, settle or release, and expiry each run as a single statement in its own transaction, with counter rows
 * locked in key order, so totals stay exact under any interleaving of replicas.
 */
import type pg from 'pg';
import { quoteSchema } from '@oagf/ledger';
import type {
  ActualByMeter, BudgetStore, CloseResult, CounterKey, CounterState, ReservationState, ReserveRequest, ReserveResult,
} from '../budgets.js';

/** Deadlock and serialization failures: the step did not happen and is safe to run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 5;

export class PostgresBudgetStore implements BudgetStore {
  private readonly S: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.S = quoteSchema(schema);
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    for (const line of req.lines) {
      if (line.amount < 0n) throw new Error(`reservation ${req.id}: negative amount for budget ${line.budgetId}`);
    }
    // Overdue holds lapse first, in their own step: expiring and reserving in one transaction would lock counters in
    // two separate key orders.
    await this.expire(req.now);
    const l = req.lines;
    const rows = await this.call<{ ord: number; committed: string; reserved: string; ok: boolean }>(
      `SELECT * FROM ${this.S}.budget_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        req.id, req.now, req.expiresAt, l.map((x) => x.budgetId), l.map((x) => x.subject), l.map((x) => x.windowStart), l.map((x) => x.meter),
        l.map((x) => x.cap.toString()), l.map((x) => x.amount.toString()),
      ],
    );
    const state = (r: (typeof rows)[number]): CounterState => {
      const line = l[r.ord - 1]!;
      return { budgetId: line.budgetId, subject: line.subject, windowStart: line.windowStart, committed: BigInt(r.committed), reserved: BigInt(r.reserved) };
    };
    const refused = rows.find((r) => !r.ok);
    if (refused) return { ok: false, line: l[refused.ord - 1]!, counter: state(refused) };
    return { ok: true, counters: rows.map(state) };
  }

  async settle(id: string, actual: ActualByMeter, now: number): Promise<CloseResult> {
    for (const [meter, amount] of Object.entries(actual)) {
      if (amount < 0n) throw new Error(`reservation ${id}: negative actual amount for ${meter}`);
    }
    return this.finish(id, true, actual, now, 'settled');
  }

  async release(id: string, reason: string, now: number): Promise<CloseResult> {
    return this.finish(id, false, {}, now, reason);
  }

  async expire(now: number): Promise<number> {
    const rows = await this.call<{ n: number }>(`SELECT ${this.S}.budget_expire($1) AS n`, [now]);
    return rows[0]!.n;
  }

  async counters(keys: CounterKey[]): Promise<CounterState[]> {
    const { rows } = await this.pool.query<CounterRow>(
      `SELECT t.* FROM ${this.S}.budget_counters t JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS u(b, s, w)
         ON (t.budget_id, t.subject, t.window_start) = (u.b, u.s, u.w)`,
      [keys.map((k) => k.budgetId), keys.map((k) => k.subject), keys.map((k) => k.windowStart)],
    );
    return keys.map((k) => {
      const row = rows.find((r) => r.budget_id === k.budgetId && r.subject === k.subject && Number(r.window_start) === k.windowStart);
      return row ? toState(row) : { ...k, committed: 0n, reserved: 0n };
    });
  }

  async countersInWindow(budgetId: string, windowStart: number): Promise<CounterState[]> {
    const { rows } = await this.pool.query<CounterRow>(
      // COLLATE "C": subjects sort by code point, as SQLite sorts them.
      `SELECT * FROM ${this.S}.budget_counters WHERE budget_id = $1 AND window_start = $2 ORDER BY subject COLLATE "C"`,
      [budgetId, windowStart],
    );
    return rows.map(toState);
  }

  /** The pool belongs to PostgresStorage, which ends it. */
  async close(): Promise<void> {}

  private async finish(id: string, settle: boolean, actual: ActualByMeter, now: number, reason: string): Promise<CloseResult> {
    const meters = Object.entries(actual);
    const rows = await this.call<{ status: CloseResult['status']; charged: string; state: ReservationState | 'unknown' }>(
      `SELECT * FROM ${this.S}.budget_close($1, $2, $3, $4, $5, $6)`,
      [id, settle, now, reason, meters.map(([m]) => m), meters.map(([, v]) => v!.toString())],
    );
    const r = rows[0]!;
    return r.status === 'not_open' ? { status: 'not_open', state: r.state } : { status: r.status, charged: BigInt(r.charged) };
  }

  private async call<T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.query<T>(text, values)).rows;
      } catch (error) {
        if (attempt >= ATTEMPTS || !RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
      }
    }
  }
}

interface CounterRow {
  budget_id: string;
  subject: string;
  window_start: string;
  committed: string;
  reserved: string;
}

function toState(row: CounterRow): CounterState {
  return { budgetId: row.budget_id, subject: row.subject, windowStart: Number(row.window_start), committed: BigInt(row.committed), reserved: BigInt(row.reserved) };
}
