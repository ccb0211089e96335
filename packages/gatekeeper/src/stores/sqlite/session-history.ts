/**
 * Session history on SQLite: one row per action; fingerprints as a BLOB of little-endian uint32s.
 *
 * On the hot path (every decision reads its session, most append to it) two things keep it cheap: the file is in
 * WAL mode with `synchronous = NORMAL` — a commit survives a crash of the process, not a power loss, which is fine
 * for a history the ledger does not depend on, and no decision waits for a disk flush here — and decoded entries
 * are cached per session, checked against the session's newest sequence number, its revision (bumped by every
 * update) and the sweep epoch, so processes sharing the file always read what the others wrote. That check is
 * itself skipped while the file's data_version says no other connection has committed since. Appends of one turn of
 * the event loop are committed in one transaction.
 */
import Database from 'better-sqlite3';
import type { EntryUpdate, SessionEntry, SessionHistoryLimits, SessionHistoryStore } from '../session-history.js';
import { decodeEntry as decode, encodeEntry as encode, type SessionRow as Row } from '../session-row.js';

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

interface Appending {
  session: string;
  entry: SessionEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface SessionState {
  seq: number;
  rev: number;
  epoch: number;
}

interface Cached extends SessionState {
  entries: SessionEntry[];
  /** The file's data_version when this state was last read from it (or followed by our own write). */
  verified: number;
}

export class SqliteSessionHistoryStore implements SessionHistoryStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly appendTx: (batch: readonly Appending[]) => void;
  private readonly updateTx: (session: string, id: string, change: EntryUpdate) => void;
  private readonly sweepTx: (before: number) => number;
  private readonly cache = new Map<string, Cached>();
  /** Appends waiting for the batch's transaction (see append). */
  private pending: Appending[] = [];

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
      // Changes whenever another connection commits to the file (never for this connection's own writes).
      dataVersion: this.db.prepare('PRAGMA data_version').pluck(),
      // The session's state: its newest sequence number (appends) and its revision (updates).
      state: this.db.prepare(
        `SELECT (SELECT MAX(seq) FROM session_entries WHERE session = @session) AS seq,
                (SELECT rev FROM session_revisions WHERE session = @session) AS rev,
                (SELECT rev FROM session_revisions WHERE session = '') AS epoch`,
      ),
      // A session holds at most maxEntries + TRIM_EVERY rows: finding one by id is a short scan of its key range.
      get: this.db.prepare('SELECT entry, print FROM session_entries WHERE session = ? AND id = ?'),
      set: this.db.prepare('UPDATE session_entries SET entry = ?, print = ? WHERE session = ? AND id = ?'),
      recent: this.db.prepare('SELECT entry, print FROM session_entries WHERE session = ? ORDER BY seq DESC LIMIT ?'),
      // Every minute, off the decision path: a scan (no index on time, so appends write one page less).
      sweep: this.db.prepare('DELETE FROM session_entries WHERE time <= ?'),
      sweepRevisions: this.db.prepare("DELETE FROM session_revisions WHERE session <> '' AND session NOT IN (SELECT DISTINCT session FROM session_entries)"),
    };
    // The sequence number is taken in the insert itself, the revision in the update's transaction: replicas never
    // collide, and an append writes one page.
    this.appendTx = this.db.transaction((batch: readonly Appending[]) => {
      for (const { session, entry } of batch) {
        const { seq } = this.stmt.insert.get({ session, id: entry.id, time: entry.time, ...encode(entry) }) as { seq: number };
        if (seq % TRIM_EVERY === 0) this.stmt.trim.run({ session, max: this.limits.maxEntries });
        this.written(session, (c) => c.seq === seq - 1, { seq }, (entries) => [...entries.slice(Math.max(0, entries.length + 1 - this.limits.maxEntries)), entry]);
      }
    });
    this.updateTx = this.db.transaction((session: string, id: string, change: EntryUpdate) => {
      const row = this.stmt.get.get(session, id) as Row | undefined;
      if (!row) return;
      const { entry, print } = encode({ ...decode(row), ...change });
      this.stmt.set.run(entry, print, session, id);
      const rev = this.stmt.bump.get(session) as number;
      this.written(session, (c) => c.rev === rev - 1, { rev }, (entries) => entries.map((e) => (e.id === id ? { ...e, ...change } : e)));
    });
    // A sweep moves the epoch on: a session emptied by it starts its sequence numbers over, and no process may take
    // its new entries for the ones it cached.
    this.sweepTx = this.db.transaction((before: number) => {
      const removed = this.stmt.sweep.run(before).changes;
      if (removed) {
        this.stmt.sweepRevisions.run();
        this.stmt.bump.get('');
        this.cache.clear();
      }
      return removed;
    });
  }

  /** Our own write moved the session on: the cached entries follow, unless another process wrote in between. */
  private written(session: string, current: (c: Cached) => boolean, state: Partial<SessionState>, apply: (entries: SessionEntry[]) => SessionEntry[]): void {
    const cached = this.cache.get(session);
    if (!cached) return;
    if (current(cached)) this.cache.set(session, { ...cached, ...state, entries: apply(cached.entries) });
    else this.cache.delete(session);
  }

  /**
   * Appends made in one turn of the event loop share one transaction (decisions the ledger committed in one batch
   * run their `committed` hooks together): each resolves once its entry is committed, and only then is it visible,
   * to this process (through the cache) and to the others alike.
   */
  append(session: string, entry: SessionEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.pending.length) setImmediate(() => this.flush());
      this.pending.push({ session, entry, resolve, reject });
    });
  }

  /** Commits the waiting appends; a failure fails each of them (the transaction wrote none). */
  private flush(): void {
    const batch = this.pending;
    if (!batch.length) return;
    this.pending = [];
    try {
      this.appendTx(batch);
    } catch (err) {
      // The transaction wrote none of them, but the cache took the ones before the failure: drop what it holds.
      for (const a of batch) {
        this.cache.delete(a.session);
        a.reject(err);
      }
      return;
    }
    for (const a of batch) a.resolve();
  }

  async update(session: string, id: string, change: EntryUpdate): Promise<void> {
    this.flush(); // an update of an entry whose append is waiting finds it
    this.updateTx(session, id, change);
  }

  /**
   * Entries and the array are shared with the cache: callers treat them as read-only. While no other connection has written to
   * the file since the session's cache was last checked (data_version unchanged), it is current without a query:
   * this process's own writes keep it up to date.
   */
  async recent(session: string, now: number): Promise<readonly SessionEntry[]> {
    const version = this.stmt.dataVersion.get() as number;
    let cached = this.cache.get(session);
    if (cached?.verified !== version) {
      const row = this.stmt.state.get({ session }) as { seq: number | null; rev: number | null; epoch: number | null };
      const state = { seq: row.seq ?? 0, rev: row.rev ?? 0, epoch: row.epoch ?? 0, verified: version };
      if (cached?.seq !== state.seq || cached.rev !== state.rev || cached.epoch !== state.epoch) {
        const rows = this.stmt.recent.all(session, this.limits.maxEntries) as Row[];
        cached = { ...state, entries: rows.reverse().map(decode) };
        if (this.cache.size >= CACHED_SESSIONS) this.cache.delete(this.cache.keys().next().value!);
      } else cached = { ...cached, verified: version };
    }
    this.cache.delete(session); // re-inserted below: most recently used last
    this.cache.set(session, cached);
    const since = now - this.limits.ttlMs;
    // The very array while none has expired: what is derived from a history can be kept per array (sessions/summary.ts).
    return cached.entries.every((e) => e.time > since) ? cached.entries : cached.entries.filter((e) => e.time > since);
  }

  async sweep(now: number): Promise<number> {
    this.flush();
    return this.sweepTx(now - this.limits.ttlMs);
  }

  async close(): Promise<void> {
    this.flush();
    this.db.close();
  }
}
