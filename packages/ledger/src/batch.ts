import { HASH_SIZE } from './hash.js';
import type { CompactRange } from './merkle.js';
import type { StoredPayload } from './store.js';

/**
 * One group commit, stored column-wise: it crosses to the writer thread by structured clone, whose cost grows with
 * the number of objects, so a batch is a few arrays rather than an object and three buffers per entry.
 */
export interface Batch {
  /** Index of the first entry; the others follow consecutively. */
  first: number;
  ids: string[];
  /** Leaf hashes, HASH_SIZE bytes per entry. */
  leaves: Uint8Array;
  /** The interior nodes each append completed (see nodeHome), back to back; entry i's end at nodeEnds[i]. */
  nodes: Uint8Array;
  nodeEnds: Uint32Array;
  /** Entry bytes back to back; entry i's end at entryEnds[i]. */
  entries: Uint8Array;
  entryEnds: Uint32Array;
  payloads: StoredPayload[];
  checkpoint?: { size: number; note: string };
}

export interface BatchEntry {
  id: string;
  leafHash: Uint8Array;
  entry: Uint8Array;
}

/** The columns of the entries table for one row. */
export type EntryRow = [index: number, id: string, leaf: Uint8Array, nodes: Uint8Array, entry: Uint8Array];

/** Appends the entries to `range` (which it advances) and lays them out with the nodes each append completed. */
export function packBatch(appends: readonly BatchEntry[], range: CompactRange, payloads: StoredPayload[]): Batch {
  const first = range.length;
  const leaves = new Uint8Array(appends.length * HASH_SIZE);
  const entryEnds = new Uint32Array(appends.length);
  const nodeEnds = new Uint32Array(appends.length);
  const nodes: Uint8Array[] = [];
  let entryBytes = 0;
  appends.forEach((a, i) => {
    leaves.set(a.leafHash, i * HASH_SIZE);
    range.append(a.leafHash, (node) => nodes.push(node.hash));
    nodeEnds[i] = nodes.length * HASH_SIZE;
    entryEnds[i] = entryBytes += a.entry.length;
  });
  const entries = new Uint8Array(entryBytes);
  appends.forEach((a, i) => entries.set(a.entry, i > 0 ? entryEnds[i - 1] : 0));
  return { first, ids: appends.map((a) => a.id), leaves, nodes: concatHashes(nodes), nodeEnds, entries, entryEnds, payloads };
}

function concatHashes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.length * HASH_SIZE);
  parts.forEach((part, i) => out.set(part, i * HASH_SIZE));
  return out;
}

/** Calls `row` with the entries-table columns of each entry of the batch, in index order. */
export function forEachRow(batch: Batch, row: (...columns: EntryRow) => void): void {
  for (let i = 0; i < batch.ids.length; i++) {
    const start = i * HASH_SIZE;
    row(
      batch.first + i,
      batch.ids[i]!,
      batch.leaves.subarray(start, start + HASH_SIZE),
      batch.nodes.subarray(i > 0 ? batch.nodeEnds[i - 1] : 0, batch.nodeEnds[i]),
      batch.entries.subarray(i > 0 ? batch.entryEnds[i - 1] : 0, batch.entryEnds[i]),
    );
  }
}
