/**
 * The ledger's write path. better-sqlite3 is synchronous, and an fsync takes milliseconds on most disks: done on the
 * main thread it would stall every request in the process. So no fsync ever runs on the main thread:
 * - fsync durability: a worker thread owns the write connection and commits each batch; the main thread keeps its
 *   own connection for reads (WAL lets readers proceed while the writer commits) and batches new appends meanwhile.
 * - buffered durability: a commit is only a write() into the WAL, so every batch commits inline, on the event loop.
 *   Handing large batches to a thread cost more than it saved: under load the structured clone of the batch
 *   (postMessage) took ~12% of the process's CPU against ~11% for the inline commit itself, and a gatekeeper that
 *   uses every core runs one process per core anyway. The fsyncs of this mode — at WAL checkpoints — run on a
 *   thread that checkpoints periodically (automatic checkpoints are off), so a checkpoint never delays a commit.
 */
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { forEachRow, type Batch } from './batch.js';
import { payloadWriter } from './sqlite-payloads.js';
import { DuplicateIdsError } from './store.js';

/**
 * fsync: every commit is fsynced (SQLite synchronous=FULL) — an acknowledged append survives power loss.
 * buffered: commits reach the OS page cache and the WAL is fsynced only at WAL checkpoints (synchronous=NORMAL)
 * — an acknowledged append survives a crash of the process, but the last commits may be lost on power loss or
 * an OS crash (the log stays consistent: it only loses its tail).
 */
export type Durability = 'fsync' | 'buffered';

export const DURABILITIES: readonly Durability[] = ['fsync', 'buffered'];

export function synchronousPragma(durability: Durability): string {
  if (!DURABILITIES.includes(durability)) throw new Error(`unknown ledger durability ${JSON.stringify(durability)}; expected one of ${DURABILITIES.join(', ')}`);
  return `synchronous = ${durability === 'fsync' ? 'FULL' : 'NORMAL'}`;
}

export interface BatchWriter {
  /** Resolves once the writer can commit; rejects if it cannot open the database. */
  ready: Promise<void>;
  /**
   * Writes the batch in one transaction; resolves once committed at the configured durability, with the ms the
   * commit ran off the event loop (0 when it ran on it).
   */
  write(batch: Batch): Promise<number>;
  /** Deletes a payload (retention) on the write connection; one call or batch in flight at a time. */
  deletePayload(digest: string): Promise<boolean>;
  /** Called with no batch in flight. */
  close(): void;
}

/** What the write connection does: commit a batch (returning the ms it took), delete a payload. */
export interface WriteConnection {
  commit(batch: Batch): number;
  deletePayload(digest: string): boolean;
}

/** The statements a batch needs, on a writable connection. */
export function writeConnection(db: Database.Database): WriteConnection {
  const insertEntry = db.prepare('INSERT INTO entries (idx, id, leaf, nodes, entry) VALUES (?, ?, ?, ?, ?)');
  const insertCheckpoint = db.prepare('INSERT INTO checkpoints (size, note) VALUES (?, ?)');
  const storedIds = db.prepare('SELECT id FROM entries WHERE id IN (SELECT value FROM json_each(?))').pluck();
  const payloads = payloadWriter(db);
  const write = db.transaction((batch: Batch) => {
    forEachRow(batch, (...row) => insertEntry.run(...row));
    payloads.insert(batch.payloads);
    if (batch.checkpoint) insertCheckpoint.run(batch.checkpoint.size, batch.checkpoint.note);
  });
  return {
    commit(batch) {
      const started = performance.now();
      try {
        write(batch);
      } catch (error) {
        payloads.discard();
        // The unique index on id is the duplicate check: ids rarely repeat, so no batch pays for asking first.
        if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
        throw new DuplicateIdsError(new Set(storedIds.all(JSON.stringify(batch.ids)) as string[]));
      }
      payloads.settle();
      return performance.now() - started;
    },
    deletePayload: (digest) => payloads.delete(digest),
  };
}

/** Commits on the calling thread: only where a commit never fsyncs. */
function inlineWriter(db: Database.Database): BatchWriter {
  const connection = writeConnection(db);
  return {
    ready: Promise.resolve(),
    async write(batch) {
      connection.commit(batch);
      return 0;
    },
    async deletePayload(digest) {
      return connection.deletePayload(digest);
    },
    close() {},
  };
}

export interface WriterData {
  path: string;
  durability: Durability;
  /** commit: the thread commits batches; checkpoint: it only runs WAL checkpoints (buffered mode). */
  role: 'commit' | 'checkpoint';
}

/** How often the buffered mode's thread moves the WAL into the database (and fsyncs both). */
export const CHECKPOINT_INTERVAL_MS = 1000;



/** The writer a file- or memory-backed store needs for its durability. */
export function writerFor(db: Database.Database, path: string, durability: Durability): BatchWriter {
  // An in-memory database cannot be shared with a thread, and never fsyncs.
  if (path === ':memory:' || path === '') return inlineWriter(db);
  if (durability === 'fsync') return workerWriter({ path, durability, role: 'commit' });
  db.pragma('wal_autocheckpoint = 0');
  const inline = inlineWriter(db);
  const checkpointer = writerThread({ path, durability, role: 'checkpoint' });
  return {
    ready: checkpointer.ready,
    write(batch) {
      // A dead checkpointer would let the WAL grow without bound: fail closed instead.
      if (checkpointer.broken()) return Promise.reject(checkpointer.broken());
      return inline.write(batch);
    },
    deletePayload: (digest) => inline.deletePayload(digest),
    close: () => checkpointer.close(),
  };
}

type Reply = { committedMs: number } | { deleted: boolean } | { error: string } | { duplicates: string[] };

interface WriterThread {
  worker: Worker;
  ready: Promise<void>;
  broken(): Error | undefined;
  /** Called with every reply but 'ready', and with the error when the thread fails or exits. */
  onReply(handler: (reply: Reply | Error) => void): void;
  close(): void;
}

/** A sqlite-writer-worker.ts thread; it keeps the process alive only while it opens (openLedger awaits that). */
function writerThread(data: WriterData): WriterThread {
  const here = import.meta.url;
  const worker = here.endsWith('.ts')
    ? // Running from TypeScript sources (tests, bench): workers do not inherit tsx's loader, so register it first.
      new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./sqlite-writer-worker.ts', here).href)}); });`, { eval: true, workerData: data })
    : new Worker(new URL('./sqlite-writer-worker.js', here), { workerData: data });
  let broken: Error | undefined;
  let handler: (reply: Reply | Error) => void = () => undefined;
  let started!: { resolve: () => void; reject: (error: Error) => void };
  const ready = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
  // Only a failing open rejects `ready`, and that failure also reaches every write.
  ready.catch(() => undefined);
  const fail = (error: Error) => {
    broken ??= error;
    started.reject(broken);
    handler(broken);
  };
  worker.on('message', (reply: Reply | 'ready') => {
    if (reply !== 'ready') return handler(reply);
    started.resolve();
    worker.unref();
  });
  worker.on('error', (error) => fail(new Error(`ledger writer thread failed: ${error.message}`)));
  worker.on('exit', (code) => fail(new Error(`ledger writer thread exited (code ${code})`)));
  return {
    worker,
    ready,
    broken: () => broken,
    onReply: (h) => (handler = h),
    close() {
      broken ??= new Error('ledger writer is closed');
      worker.postMessage('close');
    },
  };
}

/** Commits on a worker thread; one batch or deletion in flight at a time, as the store sends them. */
function workerWriter(data: WriterData): BatchWriter {
  const thread = writerThread(data);
  let pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  thread.onReply((reply) => {
    const p = pending;
    pending = undefined;
    // Idle, the thread must not keep the process alive; while a commit is in flight it must.
    thread.worker.unref();
    if (!p) return;
    if (reply instanceof Error) p.reject(reply);
    else if ('error' in reply) p.reject(new Error(reply.error));
    else if ('duplicates' in reply) p.reject(new DuplicateIdsError(new Set(reply.duplicates)));
    else p.resolve(reply);
  });
  const send = (message: Batch | { delete: string }) =>
    new Promise<Reply>((resolve, reject) => {
      const broken = thread.broken();
      if (broken) return reject(broken);
      if (pending) return reject(new Error('ledger writer: a batch is already in flight'));
      pending = { resolve, reject };
      thread.worker.ref();
      thread.worker.postMessage(message);
    });
  return {
    ready: thread.ready,
    write: async (batch) => (await send(batch) as { committedMs: number }).committedMs,
    deletePayload: async (digest) => (await send({ delete: digest }) as { deleted: boolean }).deleted,
    close: () => thread.close(),
  };
}
