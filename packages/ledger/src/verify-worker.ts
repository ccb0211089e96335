/** Worker thread for verifyLedgerFile: claims entry-pass chunks alongside the main thread, on its own connection. */
import { parentPort, workerData } from 'node:worker_threads';
import { VerifyReader } from './verify-reader.js';
import { EntryPass } from './verify-scan.js';

const { path, limit, claims } = workerData as { path: string; limit: number; claims: BigInt64Array };
try {
  const reader = new VerifyReader(path);
  try {
    const pass = new EntryPass(reader, limit, claims);
    while (pass.step());
    parentPort!.postMessage({ referenced: [...pass.referenced], problem: pass.problem });
  } finally {
    reader.close();
  }
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message });
}
