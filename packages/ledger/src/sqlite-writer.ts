/**
 * The ledger's write connection. better-sqlite3 is synchronous, and a durable commit waits for fsync (milliseconds
 * on most disks): done on the main thread it would stall every request in the process. So a file-backed ledger
 * commits on a worker thread that owns the write connection; the main thread keeps its own connection for reads
 * (WAL lets readers proceed while the writer commits) and batches new appends while a commit is in flight.
 */
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { Batch } from './store.js';

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
  /** Writes the batch in one transaction; resolves once committed at the configured durability. */
  write(batch: Batch): Promise<void>;
  /** Called with no batch in flight. */
  close(): void;
}

/** The statements a batch needs, on a writable connection. */
export function batchTransaction(db: Database.Database): (batch: Batch) => void {
  const insertEntry = db.prepare('INSERT INTO entries (idx, id, leaf, nodes, entry) VALUES (?, ?, ?, ?, ?)');
  const insertPayload = db.prepare('INSERT OR IGNORE INTO payloads (digest, data) VALUES (?, ?)');
  const insertCheckpoint = db.prepare('INSERT INTO checkpoints (size, note) VALUES (?, ?)');
  return db.transaction((batch: Batch) => {
    for (const e of batch.entries) insertEntry.run(e.index, e.id, e.leafHash, e.nodes, e.entry);
    for (const p of batch.payloads) insertPayload.run(p.digest, p.data);
    if (batch.checkpoint) insertCheckpoint.run(batch.checkpoint.size, batch.checkpoint.note);
  });
}

/** Same-thread writes: for in-memory databases, which a worker cannot share (and which never fsync). */
export function inlineWriter(db: Database.Database): BatchWriter {
  const run = batchTransaction(db);
  return {
    ready: Promise.resolve(),
    async write(batch) {
      run(batch);
    },
    close() {},
  };
}

export interface WriterData {
  path: string;
  durability: Durability;
}

type Reply = { ok: true } | { error: string };

/** Commits on a worker thread (sqlite-writer-worker.ts); one batch in flight at a time, as the ledger sends them. */
export function workerWriter(data: WriterData): BatchWriter {
  const here = import.meta.url;
  const worker = here.endsWith('.ts')
    ? // Running from TypeScript sources (tests, bench): workers do not inherit tsx's loader, so register it first.
      new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./sqlite-writer-worker.ts', here).href)}); });`, { eval: true, workerData: data })
    : new Worker(new URL('./sqlite-writer-worker.js', here), { workerData: data });
  let pending: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let broken: Error | undefined;
  let started!: { resolve: () => void; reject: (error: Error) => void };
  const ready = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
  // Only a failing open rejects `ready`, and that failure also reaches every write.
  ready.catch(() => undefined);
  const settle = (reply: Reply | Error) => {
    const p = pending;
    pending = undefined;
    worker.unref();
    if (reply instanceof Error) started.reject(reply);
    if (!p) return;
    if (reply instanceof Error) p.reject(reply);
    else if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve();
  };
  worker.on('message', (reply: Reply | 'ready') => (reply === 'ready' ? started.resolve() : settle(reply)));
  // A new worker keeps the process alive while it opens (openLedger awaits that); after that only while committing.
  void ready.then(() => !pending && worker.unref(), () => undefined);
  worker.on('error', (error) => {
    broken = new Error(`ledger writer thread failed: ${error.message}`);
    settle(broken);
  });
  worker.on('exit', (code) => {
    broken ??= new Error(`ledger writer thread exited (code ${code})`);
    settle(broken);
  });
  return {
    ready,
    write(batch) {
      return new Promise((resolve, reject) => {
        if (broken) return reject(broken);
        if (pending) return reject(new Error('ledger writer: a batch is already in flight'));
        pending = { resolve, reject };
        worker.ref();
        worker.postMessage(batch);
      });
    },
    close() {
      broken ??= new Error('ledger writer is closed');
      worker.postMessage('close');
    },
  };
}
