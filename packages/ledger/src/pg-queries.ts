/** Statements shared by the PostgreSQL store, its integrator and the export (`S` is the quoted schema name). */
import type pg from 'pg';
import { HASH_SIZE } from './hash.js';
import { nodeHome, type NodeRef } from './merkle.js';

export type Queryable = Pick<pg.ClientBase, 'query'>;

/** int8 columns arrive as decimal text; indexes and sizes stay below 2^53. */
export const int = (value: string | number | null): number => Number(value);

/** Bytes back to back and where each ends, so a batch travels as a few binary parameters, split again in SQL. */
export function concatenate(parts: readonly Uint8Array[]): { blob: Buffer; ends: number[] } {
  const ends: number[] = [];
  let length = 0;
  for (const part of parts) ends.push((length += part.length));
  const blob = Buffer.allocUnsafe(length);
  let at = 0;
  for (const part of parts) {
    blob.set(part, at);
    at += part.length;
  }
  return { blob, ends };
}

/**
 * The rows of a parameter pair (one value per piece, where each piece of a blob ends) as (ord, v, start, len);
 * `substring(blob FROM start + 1 FOR len)` recovers each piece.
 */
export const pieces = (values: string, ends: string, type: string) =>
  `(SELECT ord, v, lag(e, 1, 0) OVER (ORDER BY ord) AS start, e - lag(e, 1, 0) OVER (ORDER BY ord) AS len
    FROM unnest(${values}::${type}[], ${ends}::int4[]) WITH ORDINALITY AS x(v, e, ord))`;

/** Subtree hashes of the integrated tree: leaves from entries, interior nodes from the row of the append that completed them. */
export async function hashesIn(db: Queryable, S: string, refs: readonly NodeRef[]): Promise<(Uint8Array | undefined)[]> {
  const homes = refs.map((r) => (r.level === 0 ? { entry: r.index, offset: -1 } : nodeHome(r.level, r.index)));
  const leafIdx = homes.filter((h) => h.offset < 0).map((h) => h.entry);
  const nodeIdx = homes.filter((h) => h.offset >= 0).map((h) => h.entry);
  const { rows } = await db.query<{ k: number; idx: string; h: Buffer }>({
    name: `ledger-hashes-${S}`,
    text: `SELECT 0 AS k, idx, leaf AS h FROM ${S}.entries WHERE idx = ANY($1::int8[])
     UNION ALL SELECT 1, idx, nodes FROM ${S}.nodes WHERE idx = ANY($2::int8[])`,
    values: [leafIdx, nodeIdx],
  });
  const leaves = new Map<number, Buffer>();
  const nodes = new Map<number, Buffer>();
  for (const row of rows) (row.k === 0 ? leaves : nodes).set(int(row.idx), row.h);
  return homes.map(({ entry, offset }) => {
    if (offset < 0) return leaves.get(entry);
    const blob = nodes.get(entry);
    return blob && blob.length >= offset + HASH_SIZE ? blob.subarray(offset, offset + HASH_SIZE) : undefined;
  });
}

export interface HeadRow {
  size: number;
  checkpoint: { size: number; note: string } | undefined;
}

export async function readHead(db: Queryable, S: string): Promise<HeadRow> {
  const { rows } = await db.query<{ size: string; cp_size: string | null; note: string | null }>(
    `SELECT (SELECT size FROM ${S}.tree_head) AS size, c.size AS cp_size, c.note
     FROM (SELECT 1) one LEFT JOIN (SELECT size, note FROM ${S}.checkpoints ORDER BY seq DESC LIMIT 1) c ON true`,
  );
  const row = rows[0]!;
  return { size: int(row.size), checkpoint: row.note === null ? undefined : { size: int(row.cp_size), note: row.note } };
}
