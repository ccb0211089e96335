/**
 * Session history on PostgreSQL, shared by replicas: a decision on any replica sees what the session did on the
 * others. Every call is one statement (one round trip): an append inserts and drops whatever falls beyond
 * maxEntries in the same statement, so a session never holds more than maxEntries rows (plus one per append racing
 * it on another replica); an update merges its fields into the row's JSON in place, so two replicas updating one
 * entry do not lose each other's fields; `recent` reads the newest unexpired rows. No cache: another replica may
 * have written since, and asking whether it did costs the same round trip as reading the rows.
 *
 * Expired rows are invisible at once and removed by the sweep, which one replica at a time runs (a transaction
 * advisory lock; the others skip that round).
 */
import type pg from 'pg';
import { quoteSchema } from '@oagf/ledger';
import type { EntryUpdate, SessionEntry, SessionHistoryLimits, SessionHistoryStore } from '../session-history.js';
import { decodeEntry, encodeEntry, type SessionRow } from '../session-row.js';

/** Second key of the sweep's advisory lock (the first is the schema's hashtext; approvals' expiry uses 10). */
const SWEEP_LOCK = 11;

export class PostgresSessionHistoryStore implements SessionHistoryStore {
  private readonly S: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly limits: SessionHistoryLimits,
  ) {
    this.S = quoteSchema(schema);
  }

  async append(session: string, entry: SessionEntry): Promise<void> {
    const row = encodeEntry(entry);
    // The DELETE does not see the row the INSERT adds (one snapshot): the maxEntries-th newest row before it goes,
    // and everything older.
    await this.pool.query(
      `WITH added AS (INSERT INTO ${this.S}.session_entries (session, id, time, entry, print) VALUES ($1, $2, $3, $4, $5) RETURNING seq)
       DELETE FROM ${this.S}.session_entries WHERE session = $1
         AND seq <= (SELECT seq FROM ${this.S}.session_entries WHERE session = $1 ORDER BY seq DESC OFFSET $6 - 1 LIMIT 1)`,
      [session, entry.id, entry.time, row.entry, row.print, this.limits.maxEntries],
    );
  }

  async update(session: string, id: string, change: EntryUpdate): Promise<void> {
    const row = encodeEntry(change);
    await this.pool.query(
      `UPDATE ${this.S}.session_entries SET entry = (entry::jsonb || $3::jsonb)::text, print = coalesce($4, print) WHERE session = $1 AND id = $2`,
      [session, id, row.entry, row.print],
    );
  }

  async recent(session: string, now: number): Promise<SessionEntry[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT entry, print FROM ${this.S}.session_entries WHERE session = $1 AND time > $2 ORDER BY seq DESC LIMIT $3`,
      [session, now - this.limits.ttlMs, this.limits.maxEntries],
    );
    return rows.reverse().map(decodeEntry);
  }

  async sweep(now: number): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1), $2) AS got', [this.schema, SWEEP_LOCK]);
      const removed = rows[0]!.got ? (await client.query(`DELETE FROM ${this.S}.session_entries WHERE time <= $1`, [now - this.limits.ttlMs])).rowCount ?? 0 : 0;
      await client.query('COMMIT');
      return removed;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The pool belongs to storage.postgres, which closes it. */
  async close(): Promise<void> {}
}
