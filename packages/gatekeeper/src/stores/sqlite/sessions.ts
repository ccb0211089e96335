/** Console sessions on SQLite: they survive a restart and are shared by processes using the same file. */
import Database from 'better-sqlite3';
import type { LoginFailures, SessionStore, StoredSession } from '../sessions.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS console_sessions (
  token_hash TEXT PRIMARY KEY,
  username   TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at);
CREATE TABLE IF NOT EXISTS console_login_failures (
  key      TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_at  INTEGER NOT NULL
) WITHOUT ROWID;
`;

export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly stmt;

  /** `file` is a path or ':memory:'. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Files from before single sign-on lack the reviewer column (JSON of StoredSession.reviewer).
    const columns = this.db.prepare('SELECT name FROM pragma_table_info(?)').all('console_sessions') as { name: string }[];
    if (!columns.some((c) => c.name === 'reviewer')) this.db.exec('ALTER TABLE console_sessions ADD COLUMN reviewer TEXT');
    this.stmt = {
      create: this.db.prepare('INSERT INTO console_sessions (token_hash, username, expires_at, reviewer) VALUES (?, ?, ?, ?)'),
      get: this.db.prepare('SELECT username, expires_at, reviewer FROM console_sessions WHERE token_hash = ?'),
      delete: this.db.prepare('DELETE FROM console_sessions WHERE token_hash = ?'),
      sweep: this.db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?'),
      // One statement, so processes sharing the file count every failure.
      addFailure: this.db.prepare(
        `INSERT INTO console_login_failures (key, failures, last_at) VALUES (@key, 1, @now)
         ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN last_at <= @now - @window THEN 1 ELSE failures + 1 END, last_at = MAX(last_at, @now)
         RETURNING failures, last_at`,
      ),
      failures: this.db.prepare('SELECT failures, last_at FROM console_login_failures WHERE key = ?'),
      clearFailures: this.db.prepare('DELETE FROM console_login_failures WHERE key = ?'),
      sweepFailures: this.db.prepare('DELETE FROM console_login_failures WHERE last_at < ?'),
    };
  }

  async create(tokenHash: string, s: StoredSession): Promise<void> {
    this.stmt.create.run(tokenHash, s.username, s.expiresAt, s.reviewer ? JSON.stringify(s.reviewer) : null);
  }

  async get(tokenHash: string, now: number): Promise<StoredSession | undefined> {
    const row = this.stmt.get.get(tokenHash) as { username: string; expires_at: number; reviewer: string | null } | undefined;
    if (!row) return undefined;
    if (row.expires_at <= now) {
      this.stmt.delete.run(tokenHash);
      return undefined;
    }
    return { username: row.username, expiresAt: row.expires_at, ...(row.reviewer ? { reviewer: JSON.parse(row.reviewer) as StoredSession['reviewer'] } : {}) };
  }

  async delete(tokenHash: string): Promise<void> {
    this.stmt.delete.run(tokenHash);
  }

  async sweep(now: number): Promise<number> {
    return this.stmt.sweep.run(now).changes;
  }

  async addLoginFailure(key: string, now: number, windowMs: number): Promise<LoginFailures> {
    const row = this.stmt.addFailure.get({ key, now, window: windowMs }) as { failures: number; last_at: number };
    return { failures: row.failures, lastFailureAt: row.last_at };
  }

  async loginFailures(key: string): Promise<LoginFailures | undefined> {
    const row = this.stmt.failures.get(key) as { failures: number; last_at: number } | undefined;
    return row ? { failures: row.failures, lastFailureAt: row.last_at } : undefined;
  }

  async clearLoginFailures(key: string): Promise<void> {
    this.stmt.clearFailures.run(key);
  }

  async sweepLoginFailures(before: number): Promise<number> {
    return this.stmt.sweepFailures.run(before).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
