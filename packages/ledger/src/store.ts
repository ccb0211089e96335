import type { BatchEntry } from './batch.js';
import type { NodeLookup, NodeRef } from './merkle.js';

/**
 * Storage behind a ledger, as in Tessera: the sequencer (sequencer.ts) batches appends and hands each batch to a
 * driver's store, which durably assigns the batch its indexes; integrating entries into the Merkle tree and
 * signing checkpoints is the store's business too (SQLite does both in the same commit, as the only writer;
 * PostgreSQL sequences on any replica and integrates on one). Every read is async so a networked store fits;
 * head() is the store's latest known state and stays synchronous.
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

/** A signed checkpoint as a store knows it. */
export interface SignedTreeHead {
  size: number;
  note: string;
}

/** Why a commit wrote nothing: ids of the batch that the store already holds (an id names one entry). */
export class DuplicateIdsError extends Error {
  constructor(readonly ids: ReadonlySet<string>) {
    super(`ledger already holds ${ids.size} of the batch's ids`);
  }
}

/** What a store needs to know about the log it keeps: its origin, how it signs checkpoints, and how often. */
export interface LogConfig {
  origin: string;
  /** PRIVATE+KEY+name+hexid+base64 (see generateKey). */
  signingKey: string;
  /** The verifier key of signingKey; a store remembers every one that signed its checkpoints. */
  vkey: string;
  /** Sign a checkpoint after this many new entries or this many ms (0: no timer), whichever comes first. */
  checkpointEvery: { entries: number; ms: number };
}

/** One group commit as the sequencer hands it over: entries in the order their indexes must follow. */
export interface SequenceRequest {
  entries: readonly BatchEntry[];
  payloads: StoredPayload[];
  /** Someone waits for a checkpoint covering this batch: a store that can sign it in the same commit does. */
  checkpoint: boolean;
}

export interface Sequenced {
  /** Index of the batch's first entry; the others follow consecutively. */
  first: number;
  /** The ms the commit ran off the event loop (0 when it ran on it); this paces batching (pacer.ts). */
  committedMs: number;
}

export interface LedgerStore {
  /**
   * Durably assigns the batch consecutive indexes: resolves once committed (that is the acknowledgement), rejects
   * with nothing written — with a DuplicateIdsError when some of its ids are already stored. The sequencer sends one
   * batch at a time.
   */
  sequence(request: SequenceRequest): Promise<Sequenced>;
  /** A signed checkpoint covering at least every entry sequenced before the call (integrating first if needed). */
  checkpoint(): Promise<SignedTreeHead>;
  /** The integrated tree size and latest checkpoint as this store last saw them. */
  head(): { size: number; checkpoint: SignedTreeHead | undefined };
  /** Stored subtree hashes (level 0 = leaf hashes) of the integrated tree, in the order asked; undefined where absent. */
  hashes(refs: readonly NodeRef[]): Promise<(Uint8Array | undefined)[]>;
  entry(index: number): Promise<Uint8Array | undefined>;
  indexOfId(id: string): Promise<number | undefined>;
  entryRange(start: number, count: number): Promise<Uint8Array[]>;
  payload(digest: string): Promise<Uint8Array | undefined>;
  deletePayload(digest: string): Promise<boolean>;
  checkpoints(): Promise<StoredCheckpoint[]>;
  /** Integrated entries with index < limit, in index order (a fixed limit gives a stable view of a growing log). */
  entries(limit: number): AsyncIterable<StoredEntry>;
  payloads(): AsyncIterable<StoredPayload>;
  getMeta(key: string): Promise<string | undefined>;
  /** Waits for what is being committed, signs a last checkpoint if entries are not covered yet, and closes. */
  close(): Promise<void>;
}

/** How to open one kind of storage for a log: SQLite (sqliteDriver, the default), PostgreSQL (postgresDriver). */
export interface LedgerDriver {
  /** For messages, e.g. 'sqlite ledger.db'. */
  readonly description: string;
  /** Opens (creating or migrating) the store and binds it to the log: a store belongs to one origin. */
  open(log: LogConfig): Promise<LedgerStore>;
}

/** Tree lookups over a store; a missing hash means the store is damaged. */
export function storeLookup(store: Pick<LedgerStore, 'hashes'>): NodeLookup {
  return (refs) =>
    store.hashes(refs).then((hashes) =>
      hashes.map((hash, i) => {
        if (!hash) throw new Error(`ledger store is missing the hash at level ${refs[i]!.level}, index ${refs[i]!.index}; run 'ledger verify'`);
        return hash;
      }),
    );
}

/** The origin and signing keys a store records: refuses another log's origin, adds a new key (rotation). */
export function bindLogMeta(log: LogConfig, origin: string | undefined, vkeysJson: string | undefined, where: string): { origin?: string; vkeys?: string } {
  if (origin !== undefined && origin !== log.origin) throw new Error(`ledger ${where} belongs to origin ${origin}, not ${log.origin}`);
  const vkeys = JSON.parse(vkeysJson ?? '[]') as string[];
  return {
    ...(origin === undefined ? { origin: log.origin } : {}),
    ...(vkeys.includes(log.vkey) ? {} : { vkeys: JSON.stringify([...vkeys, log.vkey]) }),
  };
}
