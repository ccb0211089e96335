import Database from 'better-sqlite3';
import type {
  ActualByMeter,
  BudgetStore,
  CloseResult,
  CounterKey,
  CounterState,
  ReservationState,
  ReserveRequest,
  ReserveResult,
} from '../budgets.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS budget_counters (
  budget_id    TEXT    NOT NULL,
  subject      TEXT    NOT NULL,
  window_start INTEGER NOT NULL,
  committed    INTEGER NOT NULL DEFAULT 0,
  reserved     INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  PRIMARY KEY (budget_id, subject, window_start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_reservations (
  id         TEXT    PRIMARY KEY,
  state      TEXT    NOT NULL CHECK (state IN ('open', 'settled', 'released', 'expired')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  closed_at  INTEGER,
  reason     TEXT
);
CREATE INDEX IF NOT EXISTS budget_reservations_open ON budget_reservations (expires_at) WHERE state = 'open';
CREATE TABLE IF NOT EXISTS budget_reservation_lines (
  reservation_id TEXT    NOT NULL REFERENCES budget_reservations (id),
  budget_id      TEXT    NOT NULL,
  subject        TEXT    NOT NULL,
  window_start   INTEGER NOT NULL,
  meter          TEXT    NOT NULL,
  amount         INTEGER NOT NULL,
  charged        INTEGER,
  PRIMARY KEY (reservation_id, budget_id, subject, window_start)
) WITHOUT ROWID;
`;

interface CounterRow {
  budget_id: string;
  subject: string;
  window_start: bigint;
  committed: bigint;
  reserved: bigint;
}

interface LineRow {
  budget_id: string;
  subject: string;
  window_start: bigint;
  meter: string;
  amount: bigint;
}

export interface SqliteBudgetStoreOptions {
  /** How long a writer waits for another process's transaction before failing, in ms. */
  busyTimeoutMs?: number;
}

/**
 * SQLite budget store (WAL). Every mutation runs in a BEGIN IMMEDIATE transaction, which
 * takes the database write lock up front, so a check-and-reserve can never interleave with
 * another connection's — in this process or any other sharing the file.
 */
export class SqliteBudgetStore implements BudgetStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly reserveTx;
  private readonly closeTx;
  private readonly expireTx;

  constructor(path: string, options: SqliteBudgetStoreOptions = {}) {
    this.db = new Database(path);
    this.db.defaultSafeIntegers(true);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      counter: db.prepare<[string, string, number], CounterRow>(
        'SELECT * FROM budget_counters WHERE budget_id = ? AND subject = ? AND window_start = ?',
      ),
      inWindow: db.prepare<[string, number], CounterRow>(
        'SELECT * FROM budget_counters WHERE budget_id = ? AND window_start = ? ORDER BY subject',
      ),
      addReserved: db.prepare(
        `INSERT INTO budget_counters (budget_id, subject, window_start, reserved) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET reserved = reserved + excluded.reserved`,
      ),
      shift: db.prepare(
        `UPDATE budget_counters SET reserved = reserved - ?, committed = committed + ?
         WHERE budget_id = ? AND subject = ? AND window_start = ?`,
      ),
      insertReservation: db.prepare(
        "INSERT INTO budget_reservations (id, state, created_at, expires_at) VALUES (?, 'open', ?, ?)",
      ),
      insertLine: db.prepare(
        `INSERT INTO budget_reservation_lines (reservation_id, budget_id, subject, window_start, meter, amount)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      reservation: db.prepare<[string], { state: ReservationState }>(
        'SELECT state FROM budget_reservations WHERE id = ?',
      ),
      lines: db.prepare<[string], LineRow>(
        'SELECT budget_id, subject, window_start, meter, amount FROM budget_reservation_lines WHERE reservation_id = ?',
      ),
      chargeLine: db.prepare(
        `UPDATE budget_reservation_lines SET charged = ?
         WHERE reservation_id = ? AND budget_id = ? AND subject = ? AND window_start = ?`,
      ),
      closeReservation: db.prepare(
        'UPDATE budget_reservations SET state = ?, closed_at = ?, reason = ? WHERE id = ?',
      ),
      overdue: db.prepare<[number], { id: string }>(
        "SELECT id FROM budget_reservations WHERE state = 'open' AND expires_at <= ?",
      ),
    };

    this.expireTx = db.transaction((now: number): number => {
      const overdue = this.stmt.overdue.all(now);
      for (const { id } of overdue) {
        this.applyLines(id, true, null);
        this.stmt.closeReservation.run('expired', now, 'expired', id);
      }
      return overdue.length;
    });

    this.reserveTx = db.transaction((req: ReserveRequest): ReserveResult => {
      this.expireTx(req.now);
      const seen: CounterState[] = [];
      for (const line of req.lines) {
        const counter = this.read(line);
        if (counter.committed + counter.reserved + line.amount > line.cap) {
          return { ok: false, line, counter };
        }
        seen.push(counter);
      }
      this.stmt.insertReservation.run(req.id, req.now, req.expiresAt);
      for (const line of req.lines) {
        this.stmt.insertLine.run(req.id, line.budgetId, line.subject, line.windowStart, line.meter, line.amount);
        this.stmt.addReserved.run(line.budgetId, line.subject, line.windowStart, line.amount);
      }
      return { ok: true, counters: req.lines.map((l) => this.read(l)) };
    });

    this.closeTx = db.transaction(
      (id: string, how: 'settle' | 'release', actual: ActualByMeter, now: number, reason: string): CloseResult => {
        const row = this.stmt.reservation.get(id);
        if (!row) return { status: 'not_open', state: 'unknown' };
        if (row.state === 'open') {
          const charged = this.applyLines(id, true, how === 'settle' ? actual : null);
          this.stmt.closeReservation.run(how === 'settle' ? 'settled' : 'released', now, reason, id);
          return { status: how === 'settle' ? 'settled' : 'released', charged };
        }
        if (row.state === 'expired' && how === 'settle') {
          // The hold already lapsed, but the upstream really was paid: record the spend.
          const charged = this.applyLines(id, false, actual);
          this.stmt.closeReservation.run('settled', now, 'settled after expiry', id);
          return { status: 'settled_after_expiry', charged };
        }
        return { status: 'not_open', state: row.state };
      },
    );
  }

  private read(key: CounterKey): CounterState {
    const row = this.stmt.counter.get(key.budgetId, key.subject, key.windowStart);
    return row ? toState(row) : { ...key, committed: 0n, reserved: 0n };
  }

  /**
   * Applies a reservation's lines to their counters: drops the holds when `unreserve` is set
   * (they are already gone once a reservation expired) and charges `actual` when given.
   */
  private applyLines(id: string, unreserve: boolean, actual: ActualByMeter | null): bigint {
    let total = 0n;
    for (const line of this.stmt.lines.all(id)) {
      const amount = actual ? (actual[line.meter as keyof ActualByMeter] ?? line.amount) : 0n;
      this.stmt.shift.run(unreserve ? line.amount : 0n, amount, line.budget_id, line.subject, line.window_start);
      if (actual) this.stmt.chargeLine.run(amount, id, line.budget_id, line.subject, line.window_start);
      total += amount;
    }
    return total;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    for (const line of request.lines) {
      if (line.amount < 0n) throw new Error(`reservation ${request.id}: negative amount for budget ${line.budgetId}`);
    }
    return this.reserveTx.immediate(request);
  }

  async settle(id: string, actual: ActualByMeter, now: number): Promise<CloseResult> {
    for (const [meter, amount] of Object.entries(actual)) {
      if (amount < 0n) throw new Error(`reservation ${id}: negative actual amount for ${meter}`);
    }
    return this.closeTx.immediate(id, 'settle', actual, now, 'settled');
  }

  async release(id: string, reason: string, now: number): Promise<CloseResult> {
    return this.closeTx.immediate(id, 'release', {}, now, reason);
  }

  async expire(now: number): Promise<number> {
    return this.expireTx.immediate(now);
  }

  async counters(keys: CounterKey[]): Promise<CounterState[]> {
    return keys.map((k) => this.read(k));
  }

  async countersInWindow(budgetId: string, windowStart: number): Promise<CounterState[]> {
    return this.stmt.inWindow.all(budgetId, windowStart).map(toState);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function toState(row: CounterRow): CounterState {
  return {
    budgetId: row.budget_id,
    subject: row.subject,
    windowStart: Number(row.window_start),
    committed: row.committed,
    reserved: row.reserved,
  };
}
