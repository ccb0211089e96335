/**
 * Worker thread of a ledger's write path (see sqlite-writer.ts): with role `commit` one transaction per batch
 * message; with role `checkpoint` a periodic WAL checkpoint (its fsyncs stay off the main thread).
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { Batch } from './batch.js';
import { DuplicateIdsError } from './store.js';
import { CHECKPOINT_INTERVAL_MS, synchronousPragma, writeConnection, type WriterData } from './sqlite-writer.js';

const { path, durability, role } = workerData as WriterData;
const db = new Database(path, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma(synchronousPragma(durability));
// In buffered mode only the checkpoint thread moves the WAL into the database, off the commit path.
if (durability === 'buffered') db.pragma('wal_autocheckpoint = 0');
const connection = role === 'commit' ? writeConnection(db) : undefined;
// PASSIVE never waits for (or blocks) the main connection's commits; a failure ends the thread, which fails writes.
const timer = role === 'checkpoint' ? setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), CHECKPOINT_INTERVAL_MS) : undefined;
parentPort!.postMessage('ready');

parentPort!.on('message', (message: Batch | { delete: string } | 'close') => {
  if (message === 'close') {
    clearInterval(timer);
    db.close();
    parentPort!.close();
    return;
  }
  try {
    if ('delete' in message) parentPort!.postMessage({ deleted: connection!.deletePayload(message.delete) });
    else parentPort!.postMessage({ committedMs: connection!.commit(message) });
  } catch (error) {
    if (error instanceof DuplicateIdsError) parentPort!.postMessage({ duplicates: [...error.ids] });
    else parentPort!.postMessage({ error: (error as Error).message });
  }
});
