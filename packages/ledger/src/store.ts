import type { Batch } from './batch.js';
import type { NodeLookup, NodeRef } from './merkle.js';

/**
 * What the ledger needs from storage. Writes are one atomic, durable batch per group commit; reads are
 * synchronous so proofs and tiles are answered without a round trip (a networked backend keeps a read cache).
 */
export interface StoredEntry {
  index: number;
  id: string;
  leafHash: Uint8Array;
  /** The interior nodes that appending this leaf completed, lowest level first, 32 bytes each (see nodeHome). */
  nodes: Uint8Array;
  entry: Uint8Array;
}

export interface StoredPayload {
  digest: string;
  data: Uint8Array;
}

export interface StoredCheckpoint {
  seq: number;
  size: number;
  note: string;
}

/** Why a commit wrote nothing: ids of the batch that the store already holds (an id names one entry). */
export class DuplicateIdsError extends Error {
  constructor(readonly ids: ReadonlySet<string>) {
    super(`ledger already holds ${ids.size} of the batch's ids`);
  }
}

export interface LedgerStore {
  /** Number of committed entries. */
  size(): number;
  /**
   * Writes the whole batch in one transaction; resolves once durable with the ms the commit itself ran off the
   * event loop (0 when it ran on it; this paces batching), rejects with nothing written — with a DuplicateIdsError
   * when some of its ids are already stored.
   */
  commit(batch: Batch): Promise<number>;
  /** Stored subtree hashes (level 0 = leaf hashes), in the order asked; undefined where absent. */
  hashes(refs: readonly NodeRef[]): (Uint8Array | undefined)[];
  entry(index: number): Uint8Array | undefined;
  indexOfId(id: string): number | undefined;
  entryRange(start: number, count: number): Uint8Array[];
  payload(digest: string): Uint8Array | undefined;
  deletePayload(digest: string): boolean;
  latestCheckpoint(): StoredCheckpoint | undefined;
  checkpoints(): StoredCheckpoint[];
  /** Entries with index < limit, in index order (a fixed limit gives a stable view of a growing log). */
  entries(limit: number): IterableIterator<Omit<StoredEntry, 'nodes'>>;
  payloads(): IterableIterator<StoredPayload>;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  close(): void;
}

/** Tree lookups over a store; a missing hash means the store is damaged. */
export function storeLookup(store: LedgerStore): NodeLookup {
  return (refs) =>
    store.hashes(refs).map((hash, i) => {
      if (!hash) throw new Error(`ledger store is missing the hash at level ${refs[i]!.level}, index ${refs[i]!.index}; run 'ledger verify'`);
      return hash;
    });
}
