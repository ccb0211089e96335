/** Console sessions and login-failure counts in PostgreSQL: every replica sees the same sign-ins and throttle. */
import type pg from 'pg';
import { quoteSchema } from '@oagf/ledger';
import type { LoginFailures, SessionStore, StoredSession } from '../sessions.js';

export class PostgresSessionStore implements SessionStore {
  private readonly S: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.S = quoteSchema(schema);
  }

  async create(tokenHash: string, s: StoredSession): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.S}.console_sessions (token_hash, username, expires_at, reviewer) VALUES ($1, $2, $3, $4)`, [
      tokenHash,
      s.username,
      s.expiresAt,
      s.reviewer ? JSON.stringify(s.reviewer) : null,
    ]);
  }

  async get(tokenHash: string, now: number): Promise<StoredSession | undefined> {
    const { rows } = await this.pool.query<{ username: string; expires_at: string; reviewer: string | null }>(
      `SELECT username, expires_at, reviewer FROM ${this.S}.console_sessions WHERE token_hash = $1`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return undefined;
    const expiresAt = Number(row.expires_at);
    if (expiresAt <= now) {
      await this.delete(tokenHash);
      return undefined;
    }
    return { username: row.username, expiresAt, ...(row.reviewer ? { reviewer: JSON.parse(row.reviewer) as StoredSession['reviewer'] } : {}) };
  }

  async delete(tokenHash: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.S}.console_sessions WHERE token_hash = $1`, [tokenHash]);
  }

  async sweep(now: number): Promise<number> {
    return (await this.pool.query(`DELETE FROM ${this.S}.console_sessions WHERE expires_at <= $1`, [now])).rowCount ?? 0;
  }

  async addLoginFailure(key: string, now: number, windowMs: number): Promise<LoginFailures> {
    // One statement, so replicas counting failures for the same key at once count every one.
    const { rows } = await this.pool.query<{ failures: number; last_at: string }>(
      `INSERT INTO ${this.S}.console_login_failures AS f (key, failures, last_at) VALUES ($1, 1, $2)
       ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN f.last_at <= $2 - $3 THEN 1 ELSE f.failures + 1 END, last_at = greatest(f.last_at, $2)
       RETURNING failures, last_at`,
      [key, now, windowMs],
    );
    return { failures: rows[0]!.failures, lastFailureAt: Number(rows[0]!.last_at) };
  }

  async loginFailures(key: string): Promise<LoginFailures | undefined> {
    const { rows } = await this.pool.query<{ failures: number; last_at: string }>(
      `SELECT failures, last_at FROM ${this.S}.console_login_failures WHERE key = $1`,
      [key],
    );
    return rows[0] ? { failures: rows[0].failures, lastFailureAt: Number(rows[0].last_at) } : undefined;
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.S}.console_login_failures WHERE key = $1`, [key]);
  }

  async sweepLoginFailures(before: number): Promise<number> {
    return (await this.pool.query(`DELETE FROM ${this.S}.console_login_failures WHERE last_at < $1`, [before])).rowCount ?? 0;
  }

  /** The pool belongs to PostgresStorage, which ends it. */
  async close(): Promise<void> {}
}
