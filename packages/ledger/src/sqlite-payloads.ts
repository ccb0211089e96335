/**
 * Payload storage of the SQLite ledger. Payloads are content-addressed (looked up, deduplicated and deleted by
 * digest), but a digest index maintained on every commit put each payload on a random page of a growing B-tree:
 * at the gatekeeper's 2-3 payloads per commit that index was more than half of what a commit wrote (measured: a
 * request's rows cost ~2.5x without it). So payloads go to a rowid table in arrival order, and the digest index
 * (payload_index) is brought up to date in bulk, sorted, once INDEX_EVERY payloads have arrived since: each index
 * page is then written once per merge, not once per payload. Lookups read the index and scan the short unindexed
 * tail after `payloads_indexed` (meta), so readers in other processes find every committed payload; the writer
 * keeps the tail's digests in memory to deduplicate against it.
 */
import type Database from 'better-sqlite3';
import type { StoredPayload } from './store.js';

export const PAYLOADS_SCHEMA = `
CREATE TABLE IF NOT EXISTS payloads (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS payload_index (digest TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Unindexed payloads at most (a lookup scans their digests); a merge then takes a few ms of one commit. */
export const INDEX_EVERY = 2048;

const INDEXED = 'payloads_indexed';
const indexedUpTo = `(SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${INDEXED}')`;

/**
 * Earlier layouts keyed payloads by digest on every insert: the digest-keyed table (WITHOUT ROWID), then a rowid
 * table with a UNIQUE digest. Either is rewritten into the current one, in arrival order where it was kept, and
 * indexed, in one transaction. Returns whether it migrated.
 */
export function migratePayloads(db: Database.Database): boolean {
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'payloads'").pluck().get() as string | undefined;
  if (sql === undefined || !/UNIQUE|WITHOUT ROWID/i.test(sql)) return false;
  const ordered = /\bseq\b/.test(sql) ? 'ORDER BY seq' : '';
  db.transaction(() => {
    db.exec(`CREATE TABLE payloads_migrated (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL, data BLOB NOT NULL);
      INSERT INTO payloads_migrated (digest, data) SELECT digest, data FROM payloads ${ordered};
      DROP TABLE payloads;
      ALTER TABLE payloads_migrated RENAME TO payloads;
      ${PAYLOADS_SCHEMA}`);
    indexPayloads(db);
  })();
  return true;
}

/** Indexes every payload after the watermark, in digest order; call inside a transaction. Returns the new watermark. */
export function indexPayloads(db: Database.Database): number {
  const from = (db.prepare(`SELECT coalesce(${indexedUpTo}, 0)`).pluck().get() as number);
  db.prepare('INSERT OR IGNORE INTO payload_index (digest, seq) SELECT digest, seq FROM payloads WHERE seq > ? ORDER BY digest').run(from);
  const to = db.prepare('SELECT coalesce(max(seq), 0) FROM payloads').pluck().get() as number;
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(INDEXED, String(to));
  return to;
}

/** Lookups by digest on any connection, for the current layout or (read-only) an earlier one still digest-keyed. */
export function payloadReader(db: Database.Database): { payload(digest: string): Buffer | undefined } {
  const indexed = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'payload_index'").get() !== undefined;
  // The index is only a hint: the row must carry the digest asked for.
  const lookup = indexed
    ? db.prepare(`SELECT data FROM payloads WHERE seq = (SELECT seq FROM payload_index WHERE digest = @digest) AND digest = @digest
        UNION ALL SELECT data FROM payloads WHERE seq > coalesce(${indexedUpTo}, 0) AND digest = @digest LIMIT 1`).pluck()
    : db.prepare('SELECT data FROM payloads WHERE digest = @digest').pluck();
  return { payload: (digest) => lookup.get({ digest }) as Buffer | undefined };
}

/** The writing side, on the one connection that commits batches (see sqlite-writer.ts). */
export interface PayloadWriter {
  /** Inserts the payloads not stored yet; call inside the batch's transaction, then settle() or discard(). */
  insert(payloads: readonly StoredPayload[]): void;
  /** The transaction committed: what insert() added now counts as stored. */
  settle(): void;
  /** The transaction rolled back. */
  discard(): void;
  /** Deletes the payload (retention) in its own transaction; whether it was stored. */
  delete(digest: string): boolean;
}

export function payloadWriter(db: Database.Database): PayloadWriter {
  const insert = db.prepare('INSERT INTO payloads (digest, data) VALUES (?, ?)');
  const inIndex = db.prepare('SELECT 1 FROM payload_index WHERE digest = ?').pluck();
  const deleteIndexed = db.prepare('DELETE FROM payloads WHERE seq = (SELECT seq FROM payload_index WHERE digest = @digest) AND digest = @digest');
  const deleteFromIndex = db.prepare('DELETE FROM payload_index WHERE digest = ?');
  const deleteTail = db.prepare(`DELETE FROM payloads WHERE seq > coalesce(${indexedUpTo}, 0) AND digest = ?`);
  // Start from an empty tail: what an earlier run left unindexed (at most INDEX_EVERY) is indexed now.
  db.transaction(() => indexPayloads(db))();
  let tail = new Set<string>();
  const added = new Set<string>();
  let merged = false;
  const stored = (digest: string) => tail.has(digest) || inIndex.get(digest) !== undefined;
  return {
    insert(payloads) {
      for (const p of payloads) {
        if (added.has(p.digest) || stored(p.digest)) continue;
        insert.run(p.digest, p.data);
        added.add(p.digest);
      }
      merged = tail.size + added.size >= INDEX_EVERY;
      if (merged) indexPayloads(db);
    },
    settle() {
      if (merged) tail = new Set();
      else for (const digest of added) tail.add(digest);
      added.clear();
      merged = false;
    },
    discard() {
      added.clear();
      merged = false;
    },
    delete(digest) {
      const changes = db.transaction(() => {
        const n = deleteIndexed.run({ digest }).changes + deleteTail.run(digest).changes;
        deleteFromIndex.run(digest);
        return n;
      })();
      tail.delete(digest);
      return changes > 0;
    },
  };
}
