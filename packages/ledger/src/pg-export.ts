/**
 * Offline export of a PostgreSQL ledger into the SQLite file format that `ledger verify`, `ledger proof` and the
 * gatekeeper's replay read. Rows are copied as stored (leaf and node hashes are not recomputed, so verifying the
 * file checks what PostgreSQL holds), from one consistent snapshot of the integrated tree.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { int, type Queryable } from './pg-queries.js';
import { SCHEMA_VERSION, quoteSchema } from './pg-schema.js';
import { indexPayloads } from './sqlite-payloads.js';
import { SQLITE_SCHEMA } from './sqlite-store.js';

const CHUNK_ROWS = 4096;

/** Adds the payload digests an entry's record names (the entry is canonical JSON; a damaged one names none). */
function referencedBy(entry: Buffer, digests: Set<string>): void {
  if (!entry.includes('"payloads"') && !entry.includes('\\u')) return;
  try {
    const { payloads } = JSON.parse(entry.toString('utf8')) as { payloads?: Record<string, unknown> };
    for (const digest of Object.values(payloads ?? {})) if (typeof digest === 'string') digests.add(digest);
  } catch {
    // verify reports the entry itself
  }
}

export interface ExportReport {
  /** Integrated entries copied (the snapshot's tree size). */
  entries: number;
  /** Entries sequenced but not integrated yet at the snapshot: not copied, they have no tree nodes. */
  pending: number;
  checkpoints: number;
  payloads: number;
}

async function copyRows<Row>(db: Queryable, sql: (after: string) => string, after: string, next: (row: Row) => string, write: (rows: Row[]) => void): Promise<number> {
  let copied = 0;
  for (;;) {
    const { rows } = await db.query(sql(after));
    write(rows as Row[]);
    copied += rows.length;
    if (rows.length < CHUNK_ROWS) return copied;
    after = next(rows.at(-1) as Row);
  }
}

export async function exportPostgresLedger(source: { url: string; schema: string }, file: string): Promise<ExportReport> {
  const S = quoteSchema(source.schema);
  if (existsSync(file)) throw new Error(`${file} exists already; export writes a new file`);
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const client = new pg.Client({ connectionString: source.url });
  await client.connect();
  const sqlite = new Database(partial);
  try {
    sqlite.pragma('journal_mode = DELETE');
    sqlite.pragma('synchronous = OFF');
    sqlite.exec(SQLITE_SCHEMA);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const version = await client.query<{ version: number }>(`SELECT version FROM ${S}.schema_version`).catch(() => {
      throw new Error(`schema ${source.schema} holds no ledger`);
    });
    if ((version.rows[0]?.version ?? 0) > SCHEMA_VERSION) {
      throw new Error(`ledger schema ${source.schema} is at version ${version.rows[0]!.version}, newer than this code supports (${SCHEMA_VERSION})`);
    }
    const head = (await client.query<{ size: string; next: string }>(`SELECT (SELECT size FROM ${S}.tree_head) AS size, (SELECT next FROM ${S}.sequence_head) AS next`)).rows[0]!;
    const size = int(head.size);
    const meta = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${S}.meta`);
    const insertMeta = sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    for (const { key, value } of meta.rows) insertMeta.run(key, value);

    // Payloads of entries sequenced after the snapshot's tree size stay behind with their entries.
    const referenced = new Set<string>();
    const insertEntry = sqlite.prepare('INSERT INTO entries (idx, id, leaf, nodes, entry) VALUES (?, ?, ?, ?, ?)');
    type EntryRow = { idx: string; id: string; leaf: Buffer; nodes: Buffer | null; entry: Buffer };
    const entries = await copyRows<EntryRow>(
      client,
      (after) => `SELECT e.idx, e.id, e.leaf, n.nodes, e.entry FROM ${S}.entries e LEFT JOIN ${S}.nodes n USING (idx)
                  WHERE e.idx > ${after} AND e.idx < ${size} ORDER BY e.idx LIMIT ${CHUNK_ROWS}`,
      '-1',
      (row) => row.idx,
      sqlite.transaction((rows: EntryRow[]) => {
        for (const r of rows) {
          insertEntry.run(int(r.idx), r.id, r.leaf, r.nodes ?? Buffer.alloc(0), r.entry);
          referencedBy(r.entry, referenced);
        }
      }),
    );
    const insertCheckpoint = sqlite.prepare('INSERT INTO checkpoints (seq, size, note) VALUES (?, ?, ?)');
    type CheckpointRow = { seq: string; size: string; note: string };
    const checkpoints = await copyRows<CheckpointRow>(
      client,
      (after) => `SELECT seq, size, note FROM ${S}.checkpoints WHERE seq > ${after} AND size <= ${size} ORDER BY seq LIMIT ${CHUNK_ROWS}`,
      '0',
      (row) => row.seq,
      sqlite.transaction((rows: CheckpointRow[]) => {
        for (const r of rows) insertCheckpoint.run(int(r.seq), int(r.size), r.note);
      }),
    );
    const insertPayload = sqlite.prepare('INSERT INTO payloads (digest, data) VALUES (?, ?)');
    const digests = [...referenced].sort();
    let payloads = 0;
    for (let at = 0; at < digests.length; at += CHUNK_ROWS) {
      const { rows } = await client.query<{ digest: string; data: Buffer }>(`SELECT digest, data FROM ${S}.payloads WHERE digest = ANY($1::text[])`, [digests.slice(at, at + CHUNK_ROWS)]);
      sqlite.transaction(() => rows.forEach((r) => insertPayload.run(r.digest, r.data)))();
      payloads += rows.length;
    }
    sqlite.transaction(() => indexPayloads(sqlite))();
    await client.query('COMMIT');
    sqlite.pragma('synchronous = FULL');
    sqlite.close();
    renameSync(partial, file);
    return { entries, pending: int(head.next) - size, checkpoints, payloads };
  } catch (error) {
    if (sqlite.open) sqlite.close();
    rmSync(partial, { force: true });
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
