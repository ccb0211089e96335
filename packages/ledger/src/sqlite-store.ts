import Database from 'better-sqlite3';
import type { Batch } from './batch.js';
import { HASH_SIZE } from './hash.js';
import { nodeHome, type NodeRef } from './merkle.js';
import { synchronousPragma, writerFor, type BatchWriter, type Durability } from './sqlite-writer.js';
import type { LedgerStore, StoredCheckpoint, StoredEntry, StoredPayload } from './store.js';

// One row per entry: the leaf hash and the interior nodes its append completed travel with the entry, so an
// append is a single row insert and a full verify is a single sequential scan. Payloads go to a rowid table in
// arrival order with the digest in a separate index: keyed by digest (random) with the data inline, every insert
// split pages across a growing B-tree (measured ~1.8x the commit cost at 300k payloads). Older files with the
// digest-keyed table keep working: every statement names only digest and data.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, leaf BLOB NOT NULL, nodes BLOB NOT NULL, entry BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_id ON entries (id);
CREATE TABLE IF NOT EXISTS payloads (seq INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, note TEXT NOT NULL);
`;

const CHUNK_ROWS = 4096;

export interface SqliteStoreOptions {
  readonly?: boolean;
  /** What an acknowledged commit survives (see Durability); default fsync. */
  durability?: Durability;
}

function openDatabase(path: string, readonly: boolean): Database.Database {
  try {
    return new Database(path, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw new Error(`cannot open ledger database ${path}: ${(error as Error).message}`);
  }
}

export class SqliteStore implements LedgerStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly writer: BatchWriter | undefined;
  private committed: number;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    const readonly = options.readonly ?? false;
    const durability = options.durability ?? 'fsync';
    const sync = synchronousPragma(durability);
    this.db = openDatabase(path, readonly);
    if (readonly) {
      this.checkSchema(path);
    } else {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(sync);
      this.db.exec(SCHEMA);
    }
    this.db.pragma('cache_size = -65536');
    // Proofs and verify read far more than they write; mapping the file spares a read() per page.
    this.db.pragma('mmap_size = 1073741824');
    const db = this.db;
    const write = <T>(make: () => T): T | undefined => (readonly ? undefined : make());
    this.stmt = {
      size: db.prepare('SELECT coalesce(max(idx) + 1, 0) FROM entries').pluck(),
      deletePayload: write(() => db.prepare('DELETE FROM payloads WHERE digest = ?')),
      setMeta: write(() => db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')),
      entry: db.prepare('SELECT entry FROM entries WHERE idx = ?').pluck(),
      byId: db.prepare('SELECT idx FROM entries WHERE id = ?').pluck(),
      hashesIn: db.prepare('SELECT idx, leaf, nodes FROM entries WHERE idx IN (SELECT value FROM json_each(?))').raw(),
      entryRange: db.prepare('SELECT entry FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').pluck(),
      payload: db.prepare('SELECT data FROM payloads WHERE digest = ?').pluck(),
      latestCheckpoint: db.prepare('SELECT seq, size, note FROM checkpoints ORDER BY seq DESC LIMIT 1'),
      checkpoints: db.prepare('SELECT seq, size, note FROM checkpoints ORDER BY seq'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    };
    // The event loop never waits for fsync: see sqlite-writer.ts.
    this.writer = write(() => writerFor(db, path, durability));
    this.committed = this.stmt.size.get() as number;
  }

  /** Resolves once appends can be committed (the writer thread has opened the database). */
  async ready(): Promise<void> {
    await this.writer?.ready;
  }

  private checkSchema(path: string): void {
    const tables = new Set(this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    for (const table of ['meta', 'entries', 'payloads', 'checkpoints']) {
      if (!tables.has(table)) throw new Error(`${path} is not a ledger database: table ${table} is missing`);
    }
  }

  private writable<T>(stmt: T | undefined): T {
    if (!stmt) throw new Error('ledger store is open read-only');
    return stmt;
  }

  size(): number {
    // A read-only view may be watching a log that another process keeps appending to.
    return this.writer ? this.committed : (this.stmt.size.get() as number);
  }

  async commit(batch: Batch): Promise<number> {
    const committedMs = await this.writable(this.writer).write(batch);
    this.committed += batch.ids.length;
    return committedMs;
  }

  hashes(refs: readonly NodeRef[]): (Uint8Array | undefined)[] {
    const homes = refs.map((r) => (r.level === 0 ? { entry: r.index, offset: -1 } : nodeHome(r.level, r.index)));
    const rows = this.stmt.hashesIn.all(JSON.stringify(homes.map((h) => h.entry))) as [number, Buffer, Buffer][];
    const byIndex = new Map(rows.map((row) => [row[0], row]));
    return homes.map(({ entry, offset }) => {
      const row = byIndex.get(entry);
      if (!row) return undefined;
      if (offset < 0) return row[1];
      return row[2].length >= offset + HASH_SIZE ? row[2].subarray(offset, offset + HASH_SIZE) : undefined;
    });
  }

  entry(index: number): Uint8Array | undefined {
    return this.stmt.entry.get(index) as Buffer | undefined;
  }

  indexOfId(id: string): number | undefined {
    return this.stmt.byId.get(id) as number | undefined;
  }

  entryRange(start: number, count: number): Uint8Array[] {
    return this.stmt.entryRange.all(start, start + count) as Buffer[];
  }

  payload(digest: string): Uint8Array | undefined {
    return this.stmt.payload.get(digest) as Buffer | undefined;
  }

  deletePayload(digest: string): boolean {
    return this.writable(this.stmt.deletePayload).run(digest).changes > 0;
  }

  latestCheckpoint(): StoredCheckpoint | undefined {
    return this.stmt.latestCheckpoint.get() as StoredCheckpoint | undefined;
  }

  checkpoints(): StoredCheckpoint[] {
    return this.stmt.checkpoints.all() as StoredCheckpoint[];
  }

  /** Rows below limit in index order, fetched in chunks (all() per chunk is cheaper than iterate() per row). */
  private *chunks<Row extends [number, ...unknown[]]>(columns: string, limit: number): IterableIterator<Row> {
    const chunk = this.db.prepare(`SELECT ${columns} FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ${CHUNK_ROWS}`).raw();
    for (let start = 0; ; ) {
      const rows = chunk.all(start, limit) as Row[];
      yield* rows;
      if (rows.length < CHUNK_ROWS) return;
      start = rows[rows.length - 1]![0] + 1;
    }
  }

  *entries(limit: number): IterableIterator<Omit<StoredEntry, 'nodes'>> {
    for (const [index, id, leafHash, entry] of this.chunks<[number, string, Buffer, Buffer]>('idx, id, leaf, entry', limit)) {
      yield { index, id, leafHash, entry };
    }
  }

  *payloads(): IterableIterator<StoredPayload> {
    const rows = this.db.prepare('SELECT digest, data FROM payloads ORDER BY digest').raw().iterate() as IterableIterator<[string, Buffer]>;
    for (const [digest, data] of rows) yield { digest, data };
  }

  getMeta(key: string): string | undefined {
    return this.stmt.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.writable(this.stmt.setMeta).run(key, value);
  }

  close(): void {
    this.writer?.close();
    this.db.close();
  }
}
