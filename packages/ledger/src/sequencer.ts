/**
 * The ledger's single writer: appends queue here and leave as group commits, one batch in flight at a time, each
 * handed to the store (store.ts), which assigns the batch its indexes durably. All appends waiting at the same
 * moment form one batch; appends arriving during a commit form the next, so batches grow with load.
 */
import { toHex } from './hash.js';
import { CommitPacer } from './pacer.js';
import { DuplicateIdsError, type LedgerStore, type StoredPayload } from './store.js';

export interface AppendResult {
  index: number;
  id: string;
  /** Hex leaf hash of the entry. */
  leafHash: string;
}

export interface PendingAppend {
  id: string;
  entry: Buffer;
  leafHash: Uint8Array;
  payloads: StoredPayload[];
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A batch handed to the store, with what to do once it settles. */
interface Commit {
  appends: PendingAppend[];
  waiters: Waiter[];
  /** Settles with the first index, or the commit's error. */
  outcome: Promise<number | Error>;
}

const MAX_BATCH = 8192;

export function duplicateId(id: string): Error {
  return new Error(`ledger already holds a record with id ${id}`);
}

export class Sequencer {
  private queue: PendingAppend[] = [];
  private waiters: Waiter[] = [];
  private readonly queuedIds = new Set<string>();
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private readonly pacer = new CommitPacer();

  constructor(private readonly store: Pick<LedgerStore, 'sequence'>) {}

  /** Queues an append; throws if an append with its id is already queued or in flight. */
  add(append: PendingAppend): void {
    if (this.queuedIds.has(append.id)) throw duplicateId(append.id);
    this.queuedIds.add(append.id);
    this.queue.push(append);
    this.schedule();
  }

  /**
   * Resolves once every append queued before the call has been committed (rejects if its batch failed). The batch
   * that empties the queue asks the store for a checkpoint, so a store that can signs it in the same commit.
   */
  settled(): Promise<void> {
    if (!this.flushing && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Whether appends are queued or being committed. */
  busy(): boolean {
    return this.queue.length > 0 || this.flushing !== undefined || this.scheduled;
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.flushing || this.scheduled) await (this.flushing ?? new Promise((r) => setImmediate(r)));
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

  private fail(appends: PendingAppend[], waiters: Waiter[], cause: unknown): void {
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
      const outcome = await commit.outcome;
      if (outcome instanceof DuplicateIdsError && this.requeueWithout(commit, outcome.ids)) {
        commit = this.startCommit();
        continue;
      }
      // Split in two groups, the other group's batch goes to the store before this one's callers wake, and commits
      // while they work; merged, it waits (the flush ends) and their next appends join it.
      const next = this.pacer.split(commit.appends.length + this.queue.length) ? this.startCommit() : undefined;
      if (outcome instanceof Error) this.fail(commit.appends, commit.waiters, outcome);
      else this.resolveCommit(commit, outcome);
      commit = next;
    }
  }

  /** Takes up to one batch off the queue and hands it to the store; undefined when there is nothing to do. */
  private startCommit(limit = MAX_BATCH): Commit | undefined {
    if (this.queue.length === 0 && this.waiters.length === 0) return undefined;
    const appends = this.queue.splice(0, Math.min(limit, MAX_BATCH));
    const waiters = this.queue.length === 0 ? this.waiters.splice(0) : [];
    const payloads = appends.length === 1 ? appends[0]!.payloads : appends.flatMap((a) => a.payloads);
    let sequenced: Promise<{ first: number; committedMs: number }>;
    try {
      sequenced = this.store.sequence({ entries: appends, payloads, checkpoint: waiters.length > 0 });
    } catch (error) {
      sequenced = Promise.reject(error);
    }
    const outcome = sequenced.then(
      ({ first, committedMs }) => {
        this.pacer.committed(committedMs);
        return first;
      },
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    return { appends, waiters, outcome };
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

  private resolveCommit({ appends, waiters }: Commit, first: number): void {
    this.pacer.resolved(appends.length);
    appends.forEach((a, i) => {
      this.queuedIds.delete(a.id);
      a.resolve({ index: first + i, id: a.id, leafHash: toHex(a.leafHash) });
    });
    waiters.forEach((w) => w.resolve());
  }
}
