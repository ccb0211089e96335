/** Console sessions on SQLite: they survive a restart and are shared by processes using the same file. */
import Database from 'better-sqlite3';
import type { SessionStore, StoredSession } from '../sessions.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS console_sessions (
  token_hash TEXT PRIMARY KEY,
  username   TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at);
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
    this.stmt = {
      create: this.db.prepare('INSERT INTO console_sessions (token_hash, username, expires_at) VALUES (?, ?, ?)'),
      get: this.db.prepare('SELECT username, expires_at FROM console_sessions WHERE token_hash = ?'),
      delete: this.db.prepare('DELETE FROM console_sessions WHERE token_hash = ?'),
      sweep: this.db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?'),
    };
  }

  async create(tokenHash: string, s: StoredSession): Promise<void> {
    this.stmt.create.run(tokenHash, s.username, s.expiresAt);
  }

  async get(tokenHash: string, now: number): Promise<StoredSession | undefined> {
    const row = this.stmt.get.get(tokenHash) as { username: string; expires_at: number } | undefined;
    if (!row) return undefined;
    if (row.expires_at <= now) {
      this.stmt.delete.run(tokenHash);
      return undefined;
    }
    return { username: row.username, expiresAt: row.expires_at };
  }

  async delete(tokenHash: string): Promise<void> {
    this.stmt.delete.run(tokenHash);
  }

  async sweep(now: number): Promise<number> {
    return this.stmt.sweep.run(now).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
