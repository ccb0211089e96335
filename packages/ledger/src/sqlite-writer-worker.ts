/** Worker thread owning a ledger's write connection (see sqlite-writer.ts): one transaction per batch message. */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { Batch } from './store.js';
import { batchTransaction, synchronousPragma, type WriterData } from './sqlite-writer.js';

const { path, durability } = workerData as WriterData;
const db = new Database(path, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma(synchronousPragma(durability));
const commit = batchTransaction(db);
parentPort!.postMessage('ready');

parentPort!.on('message', (batch: Batch | 'close') => {
  if (batch === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    commit(batch);
    parentPort!.postMessage({ ok: true });
  } catch (error) {
    parentPort!.postMessage({ error: (error as Error).message });
  }
});
