/** Worker thread for verifyLedgerFile: runs the entry pass over its own read-only connection. */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from './sqlite-store.js';
import { Problem, scanEntries } from './verify-scan.js';

const { path, limit } = workerData as { path: string; limit: number };
const store = new SqliteStore(path, { readonly: true });
try {
  parentPort!.postMessage(scanEntries(store, limit));
} catch (error) {
  parentPort!.postMessage(error instanceof Problem ? { problem: error.problem } : { error: (error as Error).message });
} finally {
  store.close();
}
