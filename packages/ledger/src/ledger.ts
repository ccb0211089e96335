import { formatCheckpoint } from './checkpoint.js';
import { hashLeaf, sha256Hex } from './hash.js';
import { TreeReader, cachedLookup } from './merkle.js';
import { parseSignerKey } from './note.js';
import { formatProofFile } from './proof-file.js';
import { decodeRecord, encodeRecord, normalizeRecord, type LedgerRecord } from './record.js';
import { Sequencer, type AppendResult } from './sequencer.js';
import { sqliteDriver } from './sqlite-store.js';
import type { Durability } from './sqlite-writer.js';
import { storeLookup, type LedgerDriver, type LedgerStore, type StoredPayload } from './store.js';
import { createTilesHandler, type TilesHandler } from './tiles.js';

export type { AppendResult } from './sequencer.js';

export interface LedgerOptions {
  /**
   * Where entries are stored: sqliteDriver({ path, durability }) or postgresDriver({ ... }). Default: SQLite at
   * `path` with `durability`.
   */
  driver?: LedgerDriver;
  /** SQLite file of the default driver; ':memory:' for tests. */
  path?: string;
  /** Checkpoint origin line, e.g. 'gatekeeper.example.com/ledger'. */
  origin: string;
  /** PRIVATE+KEY+name+hexid+base64 (see generateKey). */
  signingKey: string;
  /** Sign a checkpoint after this many new entries or this many ms, whichever comes first (default 1000 / 1000). */
  checkpointEvery?: { entries?: number; ms?: number };
  /**
   * Default driver only. What an acknowledged append survives. 'fsync' (default): power loss and OS crashes — every
   * group commit waits for fsync. 'buffered': a crash of this process, but not power loss or an OS crash, which may
   * drop the last acknowledged appends (the log stays verifiable; it loses its tail). Commits never block the event
   * loop.
   */
  durability?: Durability;
}

export type AppendInput = Omit<LedgerRecord, 'payloads'> & { payloads?: never };

export interface Ledger {
  /** Resolves after the batch holding this record is durably committed; rejects if it is not. */
  append(record: AppendInput, payloads?: Record<string, Uint8Array | string>): Promise<AppendResult>;
  /** Size of the integrated tree, as last known (every acknowledged append, for SQLite). */
  size(): number;
  getRecord(index: number): Promise<LedgerRecord | undefined>;
  findById(id: string): Promise<{ index: number; record: LedgerRecord } | undefined>;
  getPayload(digest: string): Promise<Uint8Array | undefined>;
  /** Retention: drops a payload; the tree still verifies because leaves hold only its digest. */
  deletePayload(digest: string): Promise<boolean>;
  /** The latest signed checkpoint as last known. */
  latestCheckpoint(): string | undefined;
  /** A signed checkpoint covering every append made before the call. */
  checkpointNow(): Promise<string>;
  inclusionProof(index: number, size?: number): Promise<Uint8Array[]>;
  consistencyProof(size1: number, size2: number): Promise<Uint8Array[]>;
  rootAt(size: number): Promise<Uint8Array>;
  /** C2SP tlog-proof text for an entry covered by the latest checkpoint (the entry rides in the extra line). */
  proofFile(index: number): Promise<string>;
  tiles(): TilesHandler;
  close(): Promise<void>;
}

const DEFAULT_CHECKPOINT_ENTRIES = 1000;
const DEFAULT_CHECKPOINT_MS = 1000;

function payloadBytes(data: Uint8Array | string, name: string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data);
  throw new TypeError(`payload ${name} must be a string or Uint8Array`);
}

function checkSize(value: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new RangeError(`${what} ${value} is outside 0..${max}`);
}

export async function openLedger(opts: LedgerOptions): Promise<Ledger> {
  const signer = parseSignerKey(opts.signingKey);
  formatCheckpoint(opts.origin, 0, new Uint8Array(32));
  if (opts.driver && (opts.path !== undefined || opts.durability !== undefined)) {
    throw new Error('openLedger: path and durability configure the default SQLite driver; pass them to the driver instead');
  }
  if (!opts.driver && opts.path === undefined) throw new Error('openLedger: give a driver, or the path of a SQLite file');
  const driver = opts.driver ?? sqliteDriver({ path: opts.path!, durability: opts.durability ?? 'fsync' });
  const store = await driver.open({
    origin: opts.origin,
    signingKey: opts.signingKey,
    vkey: signer.vkey,
    checkpointEvery: {
      entries: opts.checkpointEvery?.entries ?? DEFAULT_CHECKPOINT_ENTRIES,
      ms: opts.checkpointEvery?.ms ?? DEFAULT_CHECKPOINT_MS,
    },
  });
  return new StoreBackedLedger(store);
}

class StoreBackedLedger implements Ledger {
  private readonly reader: TreeReader;
  private readonly sequencer: Sequencer;
  private closed = false;

  constructor(private readonly store: LedgerStore) {
    this.reader = new TreeReader(cachedLookup(storeLookup(store)));
    this.sequencer = new Sequencer(store);
  }

  append(record: AppendInput, payloads?: Record<string, Uint8Array | string>): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      if (this.closed) throw new Error('ledger is closed');
      if ((record as { payloads?: unknown }).payloads !== undefined) {
        throw new TypeError('invalid ledger record: pass payloads as the second argument to append, not in the record');
      }
      const stored: StoredPayload[] = [];
      const digests: Record<string, string> = {};
      for (const [name, data] of payloads ? Object.entries(payloads) : []) {
        const bytes = payloadBytes(data, name);
        const digest = `sha256:${sha256Hex(bytes)}`;
        digests[name] = digest;
        stored.push({ digest, data: bytes });
      }
      // The payload digests are ours (sha256 of the bytes above): only the caller's fields need checking.
      const normalized = normalizeRecord(record);
      const entry = encodeRecord(stored.length > 0 ? { ...normalized, payloads: digests } : normalized);
      this.sequencer.add({ id: normalized.id, entry, leafHash: hashLeaf(entry), payloads: stored, resolve, reject });
    });
  }

  size(): number {
    return this.store.head().size;
  }

  async getRecord(index: number): Promise<LedgerRecord | undefined> {
    const entry = Number.isSafeInteger(index) && index >= 0 ? await this.store.entry(index) : undefined;
    return entry ? decodeRecord(entry) : undefined;
  }

  async findById(id: string): Promise<{ index: number; record: LedgerRecord } | undefined> {
    const index = await this.store.indexOfId(id);
    if (index === undefined) return undefined;
    const record = await this.getRecord(index);
    return record && { index, record };
  }

  async getPayload(digest: string): Promise<Uint8Array | undefined> {
    const data = await this.store.payload(digest);
    // Retention may have dropped it; a corrupted copy is treated as missing rather than returned.
    return data && `sha256:${sha256Hex(data)}` === digest ? data : undefined;
  }

  deletePayload(digest: string): Promise<boolean> {
    return this.store.deletePayload(digest);
  }

  latestCheckpoint(): string | undefined {
    return this.store.head().checkpoint?.note;
  }

  async checkpointNow(): Promise<string> {
    if (this.closed) throw new Error('ledger is closed');
    await this.sequencer.settled();
    return (await this.store.checkpoint()).note;
  }

  inclusionProof(index: number, size: number = this.size()): Promise<Uint8Array[]> {
    try {
      checkSize(size, this.size(), 'tree size');
      checkSize(index, size - 1, 'leaf index');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.reader.inclusionProof(index, size);
  }

  async consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    checkSize(size2, this.size(), 'tree size');
    checkSize(size1, size2, 'tree size');
    return this.reader.consistencyProof(size1, size2);
  }

  async rootAt(size: number): Promise<Uint8Array> {
    checkSize(size, this.size(), 'tree size');
    return this.reader.root(size);
  }

  async proofFile(index: number): Promise<string> {
    const checkpoint = this.store.head().checkpoint;
    if (!checkpoint || !(index < checkpoint.size)) {
      throw new RangeError(`entry ${index} is not covered by a checkpoint yet (latest covers ${checkpoint?.size ?? 0} entries); call checkpointNow() first`);
    }
    checkSize(index, checkpoint.size - 1, 'leaf index');
    const [entry, proof] = await Promise.all([this.store.entry(index), this.reader.inclusionProof(index, checkpoint.size)]);
    return formatProofFile({ index, proof, checkpoint: checkpoint.note, extra: entry! });
  }

  tiles(): TilesHandler {
    return createTilesHandler(this.store, () => this.store.head().checkpoint?.note);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sequencer.idle();
    await this.store.close();
  }
}
