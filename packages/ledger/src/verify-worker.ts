/**
 * Worker thread for verifyLedgerFile: claims entry-pass chunks alongside the main thread, on its own connection,
 * and posts each passing chunk's tree rows back on `rows`.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { PostedRows } from './verify.js';
import { VerifyReader } from './verify-reader.js';
import { EntryPass } from './verify-scan.js';

const { path, limit, claims, rows } = workerData as { path: string; limit: number; claims: BigInt64Array; rows: MessagePort };
try {
  const reader = new VerifyReader(path);
  try {
    const pass = new EntryPass(reader, limit, claims, (chunk, tree) => rows.postMessage({ chunk, ...tree } satisfies PostedRows));
    while (pass.step());
    parentPort!.postMessage({ referenced: [...pass.referenced], problem: pass.problem });
  } finally {
    reader.close();
  }
} catch (error) {
  parentPort!.postMessage({ error: (error as Error).message });
}
