import Database from 'better-sqlite3';
import type { NodeRef } from './merkle.js';
import type { Batch, LedgerStore, StoredCheckpoint, StoredEntry, StoredNode, StoredPayload } from './store.js';

/** Interior nodes share one integer key: level * 2^47 + index (2^47 leaves is far beyond any ledger). */
const LEVEL_STRIDE = 2 ** 47;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, leaf BLOB NOT NULL, entry BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_id ON entries (id);
CREATE TABLE IF NOT EXISTS nodes (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS payloads (digest TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, note TEXT NOT NULL);
`;

export interface SqliteStoreOptions {
  readonly?: boolean;
}

export class SqliteStore implements LedgerStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly writeBatch;
  private committed: number;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      // FULL: the WAL is fsynced at every commit, so an acknowledged append survives power loss, not only a crash.
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    } else {
      this.checkSchema();
    }
    this.db.pragma('cache_size = -65536');
    const db = this.db;
    this.stmt = {
      size: db.prepare('SELECT coalesce(max(idx) + 1, 0) AS n FROM entries').pluck(),
      insertEntry: options.readonly ? undefined : db.prepare('INSERT INTO entries (idx, id, leaf, entry) VALUES (?, ?, ?, ?)'),
      insertNode: options.readonly ? undefined : db.prepare('INSERT INTO nodes (pos, hash) VALUES (?, ?)'),
      insertPayload: options.readonly ? undefined : db.prepare('INSERT OR IGNORE INTO payloads (digest, data) VALUES (?, ?)'),
      insertCheckpoint: options.readonly ? undefined : db.prepare('INSERT INTO checkpoints (size, note) VALUES (?, ?)'),
      leaf: db.prepare('SELECT leaf FROM entries WHERE idx = ?').pluck(),
      node: db.prepare('SELECT hash FROM nodes WHERE pos = ?').pluck(),
      entry: db.prepare('SELECT entry FROM entries WHERE idx = ?').pluck(),
      byId: db.prepare('SELECT idx FROM entries WHERE id = ?').pluck(),
      idsIn: db.prepare('SELECT id FROM entries WHERE id IN (SELECT value FROM json_each(?))').pluck(),
      leavesIn: db.prepare('SELECT idx, leaf FROM entries WHERE idx IN (SELECT value FROM json_each(?))').raw(),
      nodesIn: db.prepare('SELECT pos, hash FROM nodes WHERE pos IN (SELECT value FROM json_each(?))').raw(),
      leafRange: db.prepare('SELECT leaf FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').pluck(),
      nodeRange: db.prepare('SELECT hash FROM nodes WHERE pos >= ? AND pos < ? ORDER BY pos').pluck(),
      entryRange: db.prepare('SELECT entry FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').pluck(),
      payload: db.prepare('SELECT data FROM payloads WHERE digest = ?').pluck(),
      deletePayload: options.readonly ? undefined : db.prepare('DELETE FROM payloads WHERE digest = ?'),
      latestCheckpoint: db.prepare('SELECT seq, size, note FROM checkpoints ORDER BY seq DESC LIMIT 1'),
      checkpoints: db.prepare('SELECT seq, size, note FROM checkpoints ORDER BY seq'),
      maxPos: db.prepare('SELECT max(pos) FROM nodes').pluck(),
      countNodes: db.prepare('SELECT count(*) FROM nodes').pluck(),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: options.readonly ? undefined : db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
    this.writeBatch = options.readonly ? undefined : db.transaction((batch: Batch) => this.writeAll(batch));
    this.committed = this.stmt.size.get() as number;
  }

  private checkSchema(): void {
    const tables = new Set(this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    for (const table of ['meta', 'entries', 'nodes', 'payloads', 'checkpoints']) {
      if (!tables.has(table)) throw new Error(`not a ledger database: table ${table} is missing`);
    }
  }

  private writable<T>(stmt: T | undefined): T {
    if (!stmt) throw new Error('ledger store is open read-only');
    return stmt;
  }

  private writeAll(batch: Batch): void {
    const insertEntry = this.writable(this.stmt.insertEntry);
    const insertNode = this.writable(this.stmt.insertNode);
    const insertPayload = this.writable(this.stmt.insertPayload);
    for (const e of batch.entries) insertEntry.run(e.index, e.id, e.leafHash, e.entry);
    for (const n of batch.nodes) insertNode.run(n.level * LEVEL_STRIDE + n.index, n.hash);
    for (const p of batch.payloads) insertPayload.run(p.digest, p.data);
    if (batch.checkpoint) this.writable(this.stmt.insertCheckpoint).run(batch.checkpoint.size, batch.checkpoint.note);
  }

  size(): number {
    return this.committed;
  }

  async commit(batch: Batch): Promise<void> {
    this.writable(this.writeBatch)(batch);
    this.committed += batch.entries.length;
  }

  leafHash(index: number): Uint8Array | undefined {
    return this.stmt.leaf.get(index) as Buffer | undefined;
  }

  hashes(refs: readonly NodeRef[]): (Uint8Array | undefined)[] {
    const keys = refs.map((r) => (r.level === 0 ? r.index : r.level * LEVEL_STRIDE + r.index));
    const leafKeys = keys.filter((_, i) => refs[i]!.level === 0);
    const nodeKeys = keys.filter((_, i) => refs[i]!.level !== 0);
    const leaves = new Map(leafKeys.length ? (this.stmt.leavesIn.all(JSON.stringify(leafKeys)) as [number, Buffer][]) : []);
    const nodes = new Map(nodeKeys.length ? (this.stmt.nodesIn.all(JSON.stringify(nodeKeys)) as [number, Buffer][]) : []);
    return keys.map((key, i) => (refs[i]!.level === 0 ? leaves.get(key) : nodes.get(key)));
  }

  entry(index: number): Uint8Array | undefined {
    return this.stmt.entry.get(index) as Buffer | undefined;
  }

  indexOfId(id: string): number | undefined {
    return this.stmt.byId.get(id) as number | undefined;
  }

  existingIds(ids: readonly string[]): Set<string> {
    return new Set(ids.length ? (this.stmt.idsIn.all(JSON.stringify(ids)) as string[]) : []);
  }

  hashRange(level: number, start: number, count: number): Uint8Array[] {
    if (level === 0) return this.stmt.leafRange.all(start, start + count) as Buffer[];
    const base = level * LEVEL_STRIDE;
    return this.stmt.nodeRange.all(base + start, base + start + count) as Buffer[];
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

  *entries(): IterableIterator<StoredEntry> {
    const rows = this.db.prepare('SELECT idx, id, leaf, entry FROM entries ORDER BY idx').raw().iterate() as IterableIterator<[number, string, Buffer, Buffer]>;
    for (const [index, id, leafHash, entry] of rows) yield { index, id, leafHash, entry };
  }

  *levelNodes(level: number): IterableIterator<StoredNode> {
    const base = level * LEVEL_STRIDE;
    const rows = this.db.prepare('SELECT pos, hash FROM nodes WHERE pos >= ? AND pos < ? ORDER BY pos').raw().iterate(base, base + LEVEL_STRIDE) as IterableIterator<[number, Buffer]>;
    for (const [pos, hash] of rows) yield { level, index: pos - base, hash };
  }

  maxNodeLevel(): number {
    const pos = this.stmt.maxPos.get() as number | null;
    return pos === null ? 0 : Math.floor(pos / LEVEL_STRIDE);
  }

  countNodes(): number {
    return this.stmt.countNodes.get() as number;
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
    this.db.close();
  }
}
