/**
 * Session history on SQLite: one row per action; fingerprints as a BLOB of little-endian uint32s.
 *
 * On the hot path (every decision reads its session, most append to it) two things keep it cheap: the file is in
 * WAL mode with `synchronous = NORMAL` — a commit survives a crash of the process, not a power loss, which is fine
 * for a history the ledger does not depend on, and no decision waits for a disk flush here — and decoded entries
 * are cached per session, checked against the session's revision (bumped in the same transaction as every write),
 * so processes sharing the file always read what the others wrote.
 */
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
CREATE TABLE IF NOT EXISTS session_revisions (
  session TEXT PRIMARY KEY,
  rev     INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Appends between trims: `recent` reads only the newest maxEntries, so older rows can wait to be dropped. */
const TRIM_EVERY = 16;
/** Sessions whose decoded entries are cached. */
const CACHED_SESSIONS = 1024;

interface Row {
  entry: string;
  print: Buffer | null;
}

export class SqliteSessionHistoryStore implements SessionHistoryStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly appendTx: (session: string, entry: SessionEntry) => void;
  private readonly updateTx: (session: string, id: string, change: EntryUpdate) => void;
  private readonly cache = new Map<string, { rev: number; entries: SessionEntry[] }>();

  /** `file` is a path or ':memory:'. */
  constructor(
    file: string,
    private readonly limits: SessionHistoryLimits,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmt = {
      insert: this.db.prepare(
        `INSERT INTO session_entries (session, seq, id, time, entry, print)
         VALUES (@session, COALESCE((SELECT MAX(seq) FROM session_entries WHERE session = @session), 0) + 1, @id, @time, @entry, @print)
         RETURNING seq`,
      ),
      trim: this.db.prepare(
        `DELETE FROM session_entries WHERE session = @session
           AND seq <= (SELECT seq FROM session_entries WHERE session = @session ORDER BY seq DESC LIMIT 1 OFFSET @max)`,
      ),
      bump: this.db.prepare('INSERT INTO session_revisions (session, rev) VALUES (?, 1) ON CONFLICT (session) DO UPDATE SET rev = rev + 1 RETURNING rev').pluck(),
      rev: this.db.prepare('SELECT rev FROM session_revisions WHERE session = ?').pluck(),
      // A session holds at most maxEntries + TRIM_EVERY rows: finding one by id is a short scan of its key range.
      get: this.db.prepare('SELECT entry, print FROM session_entries WHERE session = ? AND id = ?'),
      set: this.db.prepare('UPDATE session_entries SET entry = ?, print = ? WHERE session = ? AND id = ?'),
      recent: this.db.prepare('SELECT entry, print FROM session_entries WHERE session = ? ORDER BY seq DESC LIMIT ?'),
      // Every minute, off the decision path: a scan (no index on time, so appends write one page less).
      sweep: this.db.prepare('DELETE FROM session_entries WHERE time <= ?'),
      sweepRevisions: this.db.prepare('DELETE FROM session_revisions WHERE session NOT IN (SELECT DISTINCT session FROM session_entries)'),
    };
    // The sequence number and the revision are taken in the write's transaction: replicas never collide.
    this.appendTx = this.db.transaction((session: string, entry: SessionEntry) => {
      const { seq } = this.stmt.insert.get({ session, id: entry.id, time: entry.time, ...encode(entry) }) as { seq: number };
      if (seq % TRIM_EVERY === 0) this.stmt.trim.run({ session, max: this.limits.maxEntries });
      this.written(session, this.stmt.bump.get(session) as number, (entries) => [...entries.slice(Math.max(0, entries.length + 1 - this.limits.maxEntries)), entry]);
    });
    this.updateTx = this.db.transaction((session: string, id: string, change: EntryUpdate) => {
      const row = this.stmt.get.get(session, id) as Row | undefined;
      if (!row) return;
      const { entry, print } = encode({ ...decode(row), ...change });
      this.stmt.set.run(entry, print, session, id);
      this.written(session, this.stmt.bump.get(session) as number, (entries) => entries.map((e) => (e.id === id ? { ...e, ...change } : e)));
    });
  }

  /** Our own write moved the session to `rev`: the cached entries follow, unless another process wrote in between. */
  private written(session: string, rev: number, apply: (entries: SessionEntry[]) => SessionEntry[]): void {
    const cached = this.cache.get(session);
    if (!cached) return;
    if (cached.rev === rev - 1) this.cache.set(session, { rev, entries: apply(cached.entries) });
    else this.cache.delete(session);
  }

  async append(session: string, entry: SessionEntry): Promise<void> {
    this.appendTx(session, entry);
  }

  async update(session: string, id: string, change: EntryUpdate): Promise<void> {
    this.updateTx(session, id, change);
  }

  /** Entries are shared with the cache: callers treat them as read-only. */
  async recent(session: string, now: number): Promise<SessionEntry[]> {
    const rev = (this.stmt.rev.get(session) as number | undefined) ?? 0;
    let cached = this.cache.get(session);
    if (cached?.rev !== rev) {
      const rows = this.stmt.recent.all(session, this.limits.maxEntries) as Row[];
      cached = { rev, entries: rows.reverse().map(decode) };
      if (this.cache.size >= CACHED_SESSIONS) this.cache.delete(this.cache.keys().next().value!);
    } else this.cache.delete(session); // re-inserted below: most recently used last
    this.cache.set(session, cached);
    const since = now - this.limits.ttlMs;
    return cached.entries.filter((e) => e.time > since);
  }

  async sweep(now: number): Promise<number> {
    const removed = this.stmt.sweep.run(now - this.limits.ttlMs).changes;
    if (removed) {
      this.stmt.sweepRevisions.run();
      this.cache.clear();
    }
    return removed;
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
