/** Session history on SQLite: one row per action; fingerprints as a BLOB of little-endian uint32s. */
import Database from 'better-sqlite3';
import type { EntryUpdate, SessionEntry, SessionHistoryLimits, SessionHistoryStore } from '../session-history.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS session_entries (
  session TEXT NOT NULL,
  seq     INTEGER NOT NULL,
  id      TEXT NOT NULL,
  time    INTEGER NOT NULL,
  entry   TEXT NOT NULL,
  print   BLOB,
  PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS session_entries_id ON session_entries (session, id);
CREATE INDEX IF NOT EXISTS session_entries_time ON session_entries (time);
`;

interface Row {
  entry: string;
  print: Buffer | null;
}

export class SqliteSessionHistoryStore implements SessionHistoryStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly appendTx: (session: string, entry: SessionEntry) => void;

  /** `file` is a path or ':memory:'. */
  constructor(
    file: string,
    private readonly limits: SessionHistoryLimits,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmt = {
      remove: this.db.prepare('DELETE FROM session_entries WHERE session = ? AND id = ?'),
      insert: this.db.prepare(
        `INSERT INTO session_entries (session, seq, id, time, entry, print)
         VALUES (@session, COALESCE((SELECT MAX(seq) FROM session_entries WHERE session = @session), 0) + 1, @id, @time, @entry, @print)`,
      ),
      trim: this.db.prepare(
        `DELETE FROM session_entries WHERE session = @session
           AND seq <= (SELECT seq FROM session_entries WHERE session = @session ORDER BY seq DESC LIMIT 1 OFFSET @max)`,
      ),
      get: this.db.prepare('SELECT entry, print FROM session_entries WHERE session = ? AND id = ?'),
      set: this.db.prepare('UPDATE session_entries SET entry = ?, print = ? WHERE session = ? AND id = ?'),
      recent: this.db.prepare('SELECT entry, print FROM session_entries WHERE session = ? AND time > ? ORDER BY seq'),
      sweep: this.db.prepare('DELETE FROM session_entries WHERE time <= ?'),
    };
    // One transaction: a replica appending to the same session never sees a half-trimmed history.
    this.appendTx = this.db.transaction((session: string, entry: SessionEntry) => {
      this.stmt.remove.run(session, entry.id);
      this.stmt.insert.run({ session, id: entry.id, time: entry.time, ...encode(entry) });
      this.stmt.trim.run({ session, max: this.limits.maxEntries });
    });
  }

  async append(session: string, entry: SessionEntry): Promise<void> {
    this.appendTx(session, entry);
  }

  async update(session: string, id: string, change: EntryUpdate): Promise<void> {
    const row = this.stmt.get.get(session, id) as Row | undefined;
    if (!row) return;
    const next = { ...decode(row), ...change };
    const { entry, print } = encode(next);
    this.stmt.set.run(entry, print, session, id);
  }

  async recent(session: string, now: number): Promise<SessionEntry[]> {
    return (this.stmt.recent.all(session, now - this.limits.ttlMs) as Row[]).map(decode);
  }

  async sweep(now: number): Promise<number> {
    return this.stmt.sweep.run(now - this.limits.ttlMs).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function encode(entry: SessionEntry): { entry: string; print: Buffer | null } {
  const { print, ...rest } = entry;
  if (!print) return { entry: JSON.stringify(rest), print: null };
  const bytes = Buffer.alloc(print.hashes.length * 4);
  for (let i = 0; i < print.hashes.length; i++) bytes.writeUInt32LE(print.hashes[i]!, i * 4);
  return { entry: JSON.stringify({ ...rest, print_chars: print.chars }), print: bytes };
}

function decode(row: Row): SessionEntry {
  const { print_chars, ...entry } = JSON.parse(row.entry) as SessionEntry & { print_chars?: number };
  if (!row.print) return entry;
  const hashes = new Uint32Array(row.print.length / 4);
  for (let i = 0; i < hashes.length; i++) hashes[i] = row.print.readUInt32LE(i * 4);
  return { ...entry, print: { chars: print_chars ?? 0, hashes } };
}
