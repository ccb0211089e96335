import Database from 'better-sqlite3';
import { packBatch, type Batch } from './batch.js';
import { signCheckpoint } from './checkpoint.js';
import { HASH_SIZE } from './hash.js';
import { CompactRange, nodeHome, type NodeRef } from './merkle.js';
import { migratePayloads, payloadReader, PAYLOADS_SCHEMA } from './sqlite-payloads.js';
import { synchronousPragma, writerFor, type BatchWriter, type Durability } from './sqlite-writer.js';
import {
  bindLogMeta, storeLookup, type LedgerDriver, type LedgerStore, type LogConfig, type SequenceRequest, type Sequenced,
  type SignedTreeHead, type StoredCheckpoint, type StoredEntry, type StoredPayload,
} from './store.js';

// One row per entry: the leaf hash and the interior nodes its append completed travel with the entry, so an
// append is a single row insert and a full verify is a single sequential scan. Payloads: see sqlite-payloads.ts.
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, leaf BLOB NOT NULL, nodes BLOB NOT NULL, entry BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_id ON entries (id);
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, note TEXT NOT NULL);
${PAYLOADS_SCHEMA}`;

const CHUNK_ROWS = 4096;

export interface SqliteStoreOptions {
  readonly?: boolean;
  /** What an acknowledged commit survives (see Durability); default fsync. */
  durability?: Durability;
}

export interface SqliteDriverOptions {
  /** SQLite file; ':memory:' for tests. */
  path: string;
  /** What an acknowledged append survives (see Durability); default fsync. */
  durability?: Durability;
}

/** The default ledger storage: one SQLite file, this process its only writer. */
export function sqliteDriver(options: SqliteDriverOptions): LedgerDriver {
  return { description: `sqlite ${options.path}`, open: (log) => SqliteStore.open(options, log) };
}

function openDatabase(path: string, readonly: boolean): Database.Database {
  try {
    return new Database(path, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw new Error(`cannot open ledger database ${path}: ${(error as Error).message}`);
  }
}

/**
 * Being the only writer, this store sequences and integrates in one step: a batch gets the next indexes, the
 * interior nodes its appends complete and, when one is due, a signed checkpoint, all in one transaction. Opened
 * read-only (verify, proof, export) it only reads.
 */
export class SqliteStore implements LedgerStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly writer: BatchWriter | undefined;
  /** The integrated tree: every committed entry (writable stores only). */
  private range = CompactRange.empty();
  private latest: SignedTreeHead | undefined;
  private log: LogConfig | undefined;
  /** The commit in flight: sequencing batches and checkpoints from the timer or close() take turns. */
  private committing: Promise<unknown> | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Opens a store for writing, bound to the log (use sqliteDriver). */
  static async open(options: SqliteDriverOptions, log: LogConfig): Promise<SqliteStore> {
    const store = new SqliteStore(options.path, { durability: options.durability ?? 'fsync' });
    try {
      await store.writer?.ready;
      await store.bind(log);
      return store;
    } catch (error) {
      store.writer?.close();
      store.db.close();
      throw error;
    }
  }

  constructor(private readonly path: string, options: SqliteStoreOptions = {}) {
    const readonly = options.readonly ?? false;
    const durability = options.durability ?? 'fsync';
    const sync = synchronousPragma(durability);
    this.db = openDatabase(path, readonly);
    if (readonly) {
      this.checkSchema(path);
    } else {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(sync);
      this.db.exec(SQLITE_SCHEMA);
      migratePayloads(this.db);
    }
    this.db.pragma('cache_size = -65536');
    // Proofs and verify read far more than they write; mapping the file spares a read() per page.
    this.db.pragma('mmap_size = 1073741824');
    const db = this.db;
    const write = <T>(make: () => T): T | undefined => (readonly ? undefined : make());
    this.stmt = {
      size: db.prepare('SELECT coalesce(max(idx) + 1, 0) FROM entries').pluck(),
      setMeta: write(() => db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')),
      entry: db.prepare('SELECT entry FROM entries WHERE idx = ?').pluck(),
      byId: db.prepare('SELECT idx FROM entries WHERE id = ?').pluck(),
      hashesIn: db.prepare('SELECT idx, leaf, nodes FROM entries WHERE idx IN (SELECT value FROM json_each(?))').raw(),
      entryRange: db.prepare('SELECT entry FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').pluck(),
      payloads: payloadReader(db),
      latestCheckpoint: db.prepare('SELECT seq, size, note FROM checkpoints ORDER BY seq DESC LIMIT 1'),
      checkpoints: db.prepare('SELECT seq, size, note FROM checkpoints ORDER BY seq'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    };
    // The event loop never waits for fsync: see sqlite-writer.ts.
    this.writer = write(() => writerFor(db, path, durability));
  }

  private checkSchema(path: string): void {
    const tables = new Set(this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    for (const table of ['meta', 'entries', 'payloads', 'checkpoints']) {
      if (!tables.has(table)) throw new Error(`${path} is not a ledger database: table ${table} is missing`);
    }
  }

  /** A database belongs to one log; it remembers every key that signed its checkpoints so verify can find them. */
  private async bind(log: LogConfig): Promise<void> {
    const meta = bindLogMeta(log, this.getMetaNow('origin'), this.getMetaNow('vkeys'), this.path);
    for (const [key, value] of Object.entries(meta)) this.writable(this.stmt.setMeta).run(key, value);
    this.log = log;
    this.range = await CompactRange.load(this.stmt.size.get() as number, storeLookup(this));
    const latest = this.stmt.latestCheckpoint.get() as StoredCheckpoint | undefined;
    this.latest = latest && { size: latest.size, note: latest.note };
    const ms = log.checkpointEvery.ms;
    if (ms > 0) {
      this.timer = setInterval(() => {
        if (this.range.length !== this.latest?.size) this.checkpoint().catch(() => undefined);
      }, ms);
      this.timer.unref();
    }
  }

  private writable<T>(stmt: T | undefined): T {
    if (!stmt) throw new Error('ledger store is open read-only');
    return stmt;
  }

  /** Runs commits one after another; the first runs at once (the sequencer's next batch must not wait a tick). */
  private serially<T>(commit: () => Promise<T>): Promise<T> {
    const run = this.committing ? this.committing.then(commit) : commit();
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.committing = done;
    void done.then(() => {
      if (this.committing === done) this.committing = undefined;
    });
    return run;
  }

  sequence(request: SequenceRequest): Promise<Sequenced> {
    return this.serially(() => this.commitBatch(request.entries, request.payloads, request.checkpoint));
  }

  private async commitBatch(entries: SequenceRequest['entries'], payloads: StoredPayload[], wantCheckpoint: boolean): Promise<Sequenced> {
    const log = this.log;
    const writer = this.writable(this.writer);
    if (!log) throw new Error('ledger store is not bound to a log');
    const range = this.range.clone();
    const batch: Batch = packBatch(entries, range, payloads);
    const sinceCheckpoint = range.length - (this.latest?.size ?? 0);
    if (wantCheckpoint ? range.length !== this.latest?.size : sinceCheckpoint >= log.checkpointEvery.entries) {
      batch.checkpoint = { size: range.length, note: signCheckpoint(log, range.length, range.root()) };
    }
    if (entries.length === 0 && !batch.checkpoint) return { first: range.length, committedMs: 0 };
    const committedMs = await writer.write(batch);
    this.range = range;
    if (batch.checkpoint) this.latest = batch.checkpoint;
    return { first: batch.first, committedMs };
  }

  async checkpoint(): Promise<SignedTreeHead> {
    await this.serially(() => this.commitBatch([], [], true));
    return this.latest!;
  }

  head(): { size: number; checkpoint: SignedTreeHead | undefined } {
    if (this.writer) return { size: this.range.length, checkpoint: this.latest };
    // A read-only view may be watching a log that another process keeps appending to.
    const latest = this.stmt.latestCheckpoint.get() as StoredCheckpoint | undefined;
    return { size: this.stmt.size.get() as number, checkpoint: latest && { size: latest.size, note: latest.note } };
  }

  hashes(refs: readonly NodeRef[]): Promise<(Uint8Array | undefined)[]> {
    try {
      return Promise.resolve(this.hashesNow(refs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private hashesNow(refs: readonly NodeRef[]): (Uint8Array | undefined)[] {
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

  async entry(index: number): Promise<Uint8Array | undefined> {
    return this.stmt.entry.get(index) as Buffer | undefined;
  }

  async indexOfId(id: string): Promise<number | undefined> {
    return this.stmt.byId.get(id) as number | undefined;
  }

  async entryRange(start: number, count: number): Promise<Uint8Array[]> {
    return this.stmt.entryRange.all(start, start + count) as Buffer[];
  }

  async payload(digest: string): Promise<Uint8Array | undefined> {
    return this.stmt.payloads.payload(digest);
  }

  async deletePayload(digest: string): Promise<boolean> {
    const writer = this.writable(this.writer);
    return this.serially(() => writer.deletePayload(digest));
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.stmt.checkpoints.all() as StoredCheckpoint[];
  }

  /** Rows below limit in index order, fetched in chunks (all() per chunk is cheaper than iterate() per row). */
  private *chunks<Row extends [number, ...unknown[]]>(columns: string, limit: number): IterableIterator<Row[]> {
    const chunk = this.db.prepare(`SELECT ${columns} FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ${CHUNK_ROWS}`).raw();
    for (let start = 0; ; ) {
      const rows = chunk.all(start, limit) as Row[];
      yield rows;
      if (rows.length < CHUNK_ROWS) return;
      start = rows[rows.length - 1]![0] + 1;
    }
  }

  async *entries(limit: number): AsyncIterableIterator<StoredEntry> {
    for (const rows of this.chunks<[number, string, Buffer, Buffer, Buffer]>('idx, id, leaf, nodes, entry', limit)) {
      for (const [index, id, leafHash, nodes, entry] of rows) yield { index, id, leafHash, nodes, entry };
    }
  }

  async *payloads(): AsyncIterableIterator<StoredPayload> {
    const rows = this.db.prepare('SELECT digest, data FROM payloads').raw().iterate() as IterableIterator<[string, Buffer]>;
    for (const [digest, data] of rows) yield { digest, data };
  }

  private getMetaNow(key: string): string | undefined {
    return this.stmt.getMeta.get(key) as string | undefined;
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.getMetaNow(key);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.writer && this.log && this.range.length !== this.latest?.size) await this.checkpoint().catch(() => undefined);
    while (this.committing) await this.committing;
    this.writer?.close();
    if (this.db.open) this.db.close();
  }
}
