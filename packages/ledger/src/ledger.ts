import { packBatch } from './batch.js';
import { formatCheckpoint } from './checkpoint.js';
import { hashLeaf, sha256Hex, toHex } from './hash.js';
import { CompactRange, TreeReader, cachedLookup } from './merkle.js';
import { parseSignerKey, signNote, type SignerKey } from './note.js';
import { CommitPacer } from './pacer.js';
import { formatProofFile } from './proof-file.js';
import { decodeRecord, encodeRecord, normalizeRecord, type LedgerRecord } from './record.js';
import { SqliteStore } from './sqlite-store.js';
import type { Durability } from './sqlite-writer.js';
import { DuplicateIdsError, storeLookup, type LedgerStore, type StoredPayload } from './store.js';
import { createTilesHandler, type TilesHandler } from './tiles.js';

export interface AppendResult {
  index: number;
  id: string;
  /** Hex leaf hash of the entry. */
  leafHash: string;
}

export interface LedgerOptions {
  /** SQLite file; ':memory:' for tests. */
  path: string;
  /** Checkpoint origin line, e.g. 'gatekeeper.example.com/ledger'. */
  origin: string;
  /** PRIVATE+KEY+name+hexid+base64 (see generateKey). */
  signingKey: string;
  /** Sign a checkpoint after this many new entries or this many ms, whichever comes first (default 1000 / 1000). */
  checkpointEvery?: { entries?: number; ms?: number };
  /**
   * What an acknowledged append survives. 'fsync' (default): power loss and OS crashes — every group commit
   * waits for fsync. 'buffered': a crash of this process, but not power loss or an OS crash, which may drop the
   * last acknowledged appends (the log stays verifiable; it loses its tail). Commits never block the event loop.
   */
  durability?: Durability;
}

export type AppendInput = Omit<LedgerRecord, 'payloads'> & { payloads?: never };

export interface Ledger {
  /** Resolves after the batch holding this record is durably committed; rejects if it is not. */
  append(record: AppendInput, payloads?: Record<string, Uint8Array | string>): Promise<AppendResult>;
  size(): number;
  getRecord(index: number): LedgerRecord | undefined;
  findById(id: string): { index: number; record: LedgerRecord } | undefined;
  getPayload(digest: string): Uint8Array | undefined;
  /** Retention: drops a payload; the tree still verifies because leaves hold only its digest. */
  deletePayload(digest: string): boolean;
  latestCheckpoint(): string | undefined;
  checkpointNow(): Promise<string>;
  inclusionProof(index: number, size?: number): Uint8Array[];
  consistencyProof(size1: number, size2: number): Uint8Array[];
  rootAt(size: number): Uint8Array;
  /** C2SP tlog-proof text for an entry covered by the latest checkpoint (the entry rides in the extra line). */
  proofFile(index: number): string;
  tiles(): TilesHandler;
  close(): Promise<void>;
}

const DEFAULT_CHECKPOINT_ENTRIES = 1000;
const DEFAULT_CHECKPOINT_MS = 1000;
const MAX_BATCH = 8192;

interface PendingAppend {
  id: string;
  entry: Buffer;
  leafHash: Uint8Array;
  payloads: StoredPayload[];
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

interface CheckpointWaiter {
  resolve: (note: string) => void;
  reject: (error: Error) => void;
}

/** A batch handed to the store, with what to do once it settles. */
interface Commit {
  appends: PendingAppend[];
  waiters: CheckpointWaiter[];
  /** The tree with the batch appended. */
  range: CompactRange;
  checkpoint: { size: number; note: string } | undefined;
  /** Settles with the commit's error, or undefined once the batch is durable. */
  outcome: Promise<Error | undefined>;
}

function payloadBytes(data: Uint8Array | string, name: string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data);
  throw new TypeError(`payload ${name} must be a string or Uint8Array`);
}

function duplicateId(id: string): Error {
  return new Error(`ledger already holds a record with id ${id}`);
}

function checkSize(value: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new RangeError(`${what} ${value} is outside 0..${max}`);
}

export async function openLedger(opts: LedgerOptions): Promise<Ledger> {
  const signer = parseSignerKey(opts.signingKey);
  formatCheckpoint(opts.origin, 0, new Uint8Array(32));
  const store = new SqliteStore(opts.path, { durability: opts.durability ?? 'fsync' });
  try {
    await store.ready();
    return new StoreBackedLedger(store, opts, signer);
  } catch (error) {
    store.close();
    throw error;
  }
}

class StoreBackedLedger implements Ledger {
  private readonly reader: TreeReader;
  private range: CompactRange;
  private checkpoint: { size: number; note: string } | undefined;
  private queue: PendingAppend[] = [];
  private waiters: CheckpointWaiter[] = [];
  private readonly queuedIds = new Set<string>();
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private readonly pacer = new CommitPacer();
  private closed = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly checkpointEntries: number;

  constructor(
    private readonly store: LedgerStore,
    private readonly opts: LedgerOptions,
    private readonly signer: SignerKey,
  ) {
    this.bindMeta();
    const lookup = storeLookup(store);
    this.reader = new TreeReader(cachedLookup(lookup));
    this.range = CompactRange.load(store.size(), lookup);
    this.checkpoint = store.latestCheckpoint();
    this.checkpointEntries = opts.checkpointEvery?.entries ?? DEFAULT_CHECKPOINT_ENTRIES;
    const ms = opts.checkpointEvery?.ms ?? DEFAULT_CHECKPOINT_MS;
    if (ms > 0) {
      this.timer = setInterval(() => {
        if (this.range.length !== this.checkpoint?.size) this.checkpointNow().catch(() => undefined);
      }, ms);
      this.timer.unref();
    }
  }

  /** A database belongs to one log; it remembers every key that signed its checkpoints so verify can find them. */
  private bindMeta(): void {
    const origin = this.store.getMeta('origin');
    if (origin !== undefined && origin !== this.opts.origin) {
      throw new Error(`ledger ${this.opts.path} belongs to origin ${origin}, not ${this.opts.origin}`);
    }
    if (origin === undefined) this.store.setMeta('origin', this.opts.origin);
    const vkeys = JSON.parse(this.store.getMeta('vkeys') ?? '[]') as string[];
    if (!vkeys.includes(this.signer.vkey)) this.store.setMeta('vkeys', JSON.stringify([...vkeys, this.signer.vkey]));
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
      const normalized = normalizeRecord(stored.length > 0 ? { ...record, payloads: digests } : record);
      if (this.queuedIds.has(normalized.id)) throw duplicateId(normalized.id);
      const entry = encodeRecord(normalized);
      this.queuedIds.add(normalized.id);
      this.queue.push({ id: normalized.id, entry, leafHash: hashLeaf(entry), payloads: stored, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing ??= this.flush().finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0 || this.waiters.length > 0) this.schedule();
      });
    });
  }

  private failAppends(appends: PendingAppend[], waiters: CheckpointWaiter[], cause: unknown): void {
    const error = new Error(`ledger store failure; ${appends.length} append(s) not recorded: ${(cause as Error).message}`, { cause });
    for (const a of appends) {
      this.queuedIds.delete(a.id);
      a.reject(error);
    }
    waiters.forEach((w) => w.reject(error));
  }

  /** Group commit: what is queued becomes one transaction; what queues meanwhile becomes the next one. */
  private async flush(): Promise<void> {
    const queued = this.queue.length;
    for (let commit = this.startCommit(this.pacer.split(queued) ? Math.ceil(queued / 2) : MAX_BATCH); commit; ) {
      const error = await commit.outcome;
      if (error instanceof DuplicateIdsError && this.requeueWithout(commit, error.ids)) {
        commit = this.startCommit();
        continue;
      }
      if (!error) {
        this.range = commit.range;
        if (commit.checkpoint) this.checkpoint = commit.checkpoint;
      }
      // Split in two groups, the other group's batch goes to the store before this one's callers wake, and commits
      // while they work; merged, it waits (the flush ends) and their next appends join it.
      const next = this.pacer.split(commit.appends.length + this.queue.length) ? this.startCommit() : undefined;
      if (error) this.failAppends(commit.appends, commit.waiters, error);
      else this.resolveCommit(commit);
      commit = next;
    }
  }

  /** Takes up to one batch off the queue and hands it to the store; undefined when there is nothing to do. */
  private startCommit(limit = MAX_BATCH): Commit | undefined {
    if (this.queue.length === 0 && this.waiters.length === 0) return undefined;
    const appends = this.queue.splice(0, Math.min(limit, MAX_BATCH));
    const waiters = this.queue.length === 0 ? this.waiters.splice(0) : [];
    const range = this.range.clone();
    const batch = packBatch(appends, range, appends.flatMap((a) => a.payloads));
    const sinceCheckpoint = range.length - (this.checkpoint?.size ?? 0);
    const wantCheckpoint = waiters.length > 0 ? range.length !== this.checkpoint?.size : sinceCheckpoint >= this.checkpointEntries;
    if (wantCheckpoint) {
      batch.checkpoint = { size: range.length, note: signNote(formatCheckpoint(this.opts.origin, range.length, range.root()), this.opts.signingKey) };
    }
    const outcome = this.store.commit(batch).then(
      (committedMs) => void this.pacer.committed(committedMs),
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    return { appends, waiters, range, checkpoint: batch.checkpoint, outcome };
  }

  /**
   * The batch wrote nothing because some of its ids are stored already: rejects those appends and queues the rest
   * again, ahead of newer ones. False if none of its appends has such an id (then the batch just failed).
   */
  private requeueWithout(commit: Commit, stored: ReadonlySet<string>): boolean {
    const duplicates = commit.appends.filter((a) => stored.has(a.id));
    if (duplicates.length === 0) return false;
    for (const a of duplicates) {
      this.queuedIds.delete(a.id);
      a.reject(duplicateId(a.id));
    }
    this.queue.unshift(...commit.appends.filter((a) => !stored.has(a.id)));
    this.waiters.unshift(...commit.waiters);
    return true;
  }

  private resolveCommit({ appends, waiters, range }: Commit): void {
    this.pacer.resolved(appends.length);
    const first = range.length - appends.length;
    appends.forEach((a, i) => {
      this.queuedIds.delete(a.id);
      a.resolve({ index: first + i, id: a.id, leafHash: toHex(a.leafHash) });
    });
    waiters.forEach((w) => w.resolve(this.checkpoint!.note));
  }

  size(): number {
    return this.range.length;
  }

  getRecord(index: number): LedgerRecord | undefined {
    const entry = Number.isSafeInteger(index) && index >= 0 ? this.store.entry(index) : undefined;
    return entry ? decodeRecord(entry) : undefined;
  }

  findById(id: string): { index: number; record: LedgerRecord } | undefined {
    const index = this.store.indexOfId(id);
    return index === undefined ? undefined : { index, record: this.getRecord(index)! };
  }

  getPayload(digest: string): Uint8Array | undefined {
    const data = this.store.payload(digest);
    // Retention may have dropped it; a corrupted copy is treated as missing rather than returned.
    return data && `sha256:${sha256Hex(data)}` === digest ? data : undefined;
  }

  deletePayload(digest: string): boolean {
    return this.store.deletePayload(digest);
  }

  latestCheckpoint(): string | undefined {
    return this.checkpoint?.note;
  }

  checkpointNow(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.closed) throw new Error('ledger is closed');
      if (this.checkpoint && this.checkpoint.size === this.range.length && this.queue.length === 0) return resolve(this.checkpoint.note);
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  inclusionProof(index: number, size: number = this.size()): Uint8Array[] {
    checkSize(size, this.size(), 'tree size');
    checkSize(index, size - 1, 'leaf index');
    return this.reader.inclusionProof(index, size);
  }

  consistencyProof(size1: number, size2: number): Uint8Array[] {
    checkSize(size2, this.size(), 'tree size');
    checkSize(size1, size2, 'tree size');
    return this.reader.consistencyProof(size1, size2);
  }

  rootAt(size: number): Uint8Array {
    checkSize(size, this.size(), 'tree size');
    return size === this.size() ? this.range.root() : this.reader.root(size);
  }

  proofFile(index: number): string {
    const checkpoint = this.checkpoint;
    if (!checkpoint || !(index < checkpoint.size)) {
      throw new RangeError(`entry ${index} is not covered by a checkpoint yet (latest covers ${checkpoint?.size ?? 0} entries); call checkpointNow() first`);
    }
    checkSize(index, checkpoint.size - 1, 'leaf index');
    const entry = this.store.entry(index)!;
    const proof = this.reader.inclusionProof(index, checkpoint.size);
    return formatProofFile({ index, proof, checkpoint: checkpoint.note, extra: entry });
  }

  tiles(): TilesHandler {
    return createTilesHandler(this.store, () => this.checkpoint?.note);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.range.length !== this.checkpoint?.size || this.queue.length > 0) await this.checkpointNow().catch(() => undefined);
    this.closed = true;
    while (this.flushing || this.scheduled) await (this.flushing ?? new Promise((r) => setImmediate(r)));
    this.store.close();
  }
}
