import Database from 'better-sqlite3';

/** Rows per chunk: big enough to amortise a query, small enough (a few MB of entries) to stay in cache. */
export const CHUNK_ROWS = 4096;

/**
 * One chunk of the entry pass, read as a single row: better-sqlite3 makes one Buffer per blob cell, which costs
 * more than hashing the entry, so SQLite concatenates the chunk's cells and checks ids and lengths itself.
 */
export interface EntryChunk {
  rows: number;
  /** Stored leaf hashes, 32 bytes each, in index order (valid only when badRows is 0). */
  leaves: Buffer;
  entries: Buffer;
  entryLengths: number[];
  /** Rows whose leaf is not 32 bytes, whose entry is not JSON, or whose id column differs from the record's id. */
  badRows: number;
  /** The same rows as the tree pass needs them, so that it need not read them again. */
  tree: TreeChunk;
}

export interface TreeChunk {
  rows: number;
  leaves: Buffer;
  /** Stored interior hashes of the chunk's rows, in index order. */
  nodes: Buffer;
  /** Rows whose leaf is not 32 bytes or whose nodes blob is not 32 bytes per node its append completed. */
  badRows: number;
}

/** Row-by-row form of the entry checks, for pinpointing a problem inside a chunk that failed the bulk check. */
export interface EntryRow {
  index: number;
  leafHash: Buffer;
  entry: Buffer;
  isJson: boolean;
  idMatches: boolean;
}

export interface TreeRow {
  index: number;
  leafHash: Buffer;
  nodes: Buffer;
}

function treeChunk(rows: number, leaves: Buffer | null, nodes: Buffer | null, badRows: number | null): TreeChunk {
  return { rows, leaves: leaves ?? Buffer.alloc(0), nodes: nodes ?? Buffer.alloc(0), badRows: badRows ?? 0 };
}

const RANGE = 'FROM entries WHERE idx >= ? AND idx < ?';
// SQL evaluates both sides of AND/OR, so a JSON function only ever runs under CASE WHEN json_valid(t).
// Aggregates see the rows in the order of the rowid range scan, i.e. by index.
// An append at index i completes one node per trailing 1 bit of i: (i + 1) & ~i is 2^that count.
const BAD_TREE_ROW = 'length(leaf) <> 32 OR length(nodes) % 32 <> 0 OR (1 << (length(nodes) / 32)) <> ((idx + 1) & ~idx)';
const TREE_CHUNK = `SELECT count(*), CAST(group_concat(leaf, '') AS BLOB), CAST(group_concat(nodes, '') AS BLOB), sum(${BAD_TREE_ROW})
  ${RANGE}`;
const ENTRY_CHUNK = `SELECT count(*), CAST(group_concat(leaf, '') AS BLOB), CAST(group_concat(nodes, '') AS BLOB), sum(${BAD_TREE_ROW}),
  CAST(group_concat(entry, '') AS BLOB), json_group_array(length(entry)),
  sum(CASE WHEN json_valid(t) THEN length(leaf) <> 32 OR (t ->> '$.id') IS NOT id ELSE 1 END)
  FROM (SELECT idx, id, leaf, nodes, entry, CAST(entry AS TEXT) AS t ${RANGE})`;
const ENTRY_ROWS = `SELECT idx, leaf, entry, json_valid(t),
  CASE WHEN json_valid(t) THEN json_extract(t, '$.id') IS id ELSE 0 END
  FROM (SELECT idx, id, leaf, entry, CAST(entry AS TEXT) AS t ${RANGE} ORDER BY idx)`;
const TREE_ROWS = `SELECT idx, leaf, nodes ${RANGE} ORDER BY idx`;

/** Read-only bulk access to a SQLite ledger's entries table, for verify (its own connection, one per thread). */
export class VerifyReader {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma('cache_size = -65536');
    this.db.pragma('mmap_size = 1073741824');
    this.stmt = {
      entryChunk: this.db.prepare(ENTRY_CHUNK).raw(),
      treeChunk: this.db.prepare(TREE_CHUNK).raw(),
      entryRows: this.db.prepare(ENTRY_ROWS).raw(),
      treeRows: this.db.prepare(TREE_ROWS).raw(),
    };
  }

  entryChunk(start: number, end: number): EntryChunk {
    const [rows, leaves, nodes, badTreeRows, entries, lengths, badRows] = this.stmt.entryChunk.get(start, end) as [
      number, Buffer | null, Buffer | null, number | null, Buffer | null, string, number | null,
    ];
    const tree = treeChunk(rows, leaves, nodes, badTreeRows);
    return { rows, leaves: tree.leaves, entries: entries ?? Buffer.alloc(0), entryLengths: JSON.parse(lengths) as number[], badRows: badRows ?? 0, tree };
  }

  treeChunk(start: number, end: number): TreeChunk {
    return treeChunk(...(this.stmt.treeChunk.get(start, end) as [number, Buffer | null, Buffer | null, number | null]));
  }

  entryRows(start: number, end: number): EntryRow[] {
    return (this.stmt.entryRows.all(start, end) as [number, Buffer, Buffer, number, number][]).map(
      ([index, leafHash, entry, isJson, idMatches]) => ({ index, leafHash, entry, isJson: isJson === 1, idMatches: idMatches === 1 }),
    );
  }

  treeRows(start: number, end: number): TreeRow[] {
    return (this.stmt.treeRows.all(start, end) as [number, Buffer, Buffer][]).map(([index, leafHash, nodes]) => ({ index, leafHash, nodes }));
  }

  close(): void {
    this.db.close();
  }
}
