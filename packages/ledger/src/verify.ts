import { once } from 'node:events';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { sha256Hex, toHex } from './hash.js';
import { TreeReader, verifyConsistency } from './merkle.js';
import { verifyNote } from './note.js';
import { SqliteStore } from './sqlite-store.js';
import { storeLookup, type LedgerStore, type StoredCheckpoint } from './store.js';
import { VerifyReader, type TreeChunk } from './verify-reader.js';
import { EntryPass, Problem, TreeScan, fail, type SignedCheckpoint, type VerifyProblem } from './verify-scan.js';

export type { VerifyProblem } from './verify-scan.js';

export interface VerifyReport {
  ok: boolean;
  origin?: string;
  entries: number;
  nodes: number;
  checkpoints: number;
  /** Names of the keys (log and witnesses) that signed at least one checkpoint. */
  signers: string[];
  /** Where the trusted verifier keys came from: the caller, or the database itself (weaker). */
  keySource: 'given' | 'database';
  payloads: { present: number; referenced: number; deleted: number };
  /** Hex root of the whole tree, when verification got that far. */
  root?: string;
  problem?: VerifyProblem;
}

function checkCheckpoints(stored: StoredCheckpoint[], origin: string, vkeys: string[], signers: Set<string>): SignedCheckpoint[] {
  let previous = 0;
  return stored.map(({ seq, size, note }) => {
    let checkpoint: Checkpoint;
    try {
      for (const name of verifyNote(note, vkeys)) signers.add(name);
      checkpoint = parseCheckpoint(note);
    } catch (error) {
      fail('checkpoint', size, `checkpoint #${seq} (size ${size}): ${(error as Error).message}`);
    }
    if (checkpoint.origin !== origin) fail('checkpoint', size, `checkpoint #${seq} is for origin ${checkpoint.origin}, not ${origin}`);
    if (checkpoint.size !== size) fail('checkpoint', size, `checkpoint #${seq} is stored under size ${size} but signs size ${checkpoint.size}`);
    if (size < previous) fail('checkpoint', size, `checkpoint #${seq} (size ${size}) is smaller than the one before it (${previous})`);
    previous = size;
    return { ...checkpoint, seq };
  });
}

async function trustedKeys(store: LedgerStore, given: string[] | undefined): Promise<string[]> {
  if (given) return given;
  try {
    return JSON.parse((await store.getMeta('vkeys')) ?? '[]') as string[];
  } catch {
    fail('database', undefined, 'the verifier keys recorded in the database are not valid JSON');
  }
}

async function checkSuccessiveCheckpoints(store: LedgerStore, checkpoints: SignedCheckpoint[]): Promise<void> {
  const reader = new TreeReader(storeLookup(store));
  for (let i = 1; i < checkpoints.length; i++) {
    const [a, b] = [checkpoints[i - 1]!, checkpoints[i]!];
    if (!verifyConsistency(a.size, b.size, a.root, b.root, await reader.consistencyProof(a.size, b.size))) {
      fail('checkpoint', b.size, `checkpoint #${b.seq} (size ${b.size}) is not consistent with checkpoint #${a.seq} (size ${a.size})`);
    }
  }
}

async function checkPayloads(store: LedgerStore, referenced: Set<string>): Promise<VerifyReport['payloads']> {
  let present = 0;
  for await (const { digest, data } of store.payloads()) {
    if (`sha256:${sha256Hex(data)}` !== digest) fail('payload', undefined, `payload ${digest} does not match its digest`);
    if (!referenced.has(digest)) fail('payload', undefined, `payload ${digest} is not referenced by any entry`);
    present++;
  }
  return { present, referenced: referenced.size, deleted: referenced.size - present };
}

/** Below this many entries a second thread costs more than it saves. */
const PARALLEL_FROM = 50_000;

interface EntryPassResult {
  referenced?: string[];
  problem?: VerifyProblem;
  error?: string;
}

/**
 * Entry-pass chunks checked on a second core, with its own read-only connection; the rows of each chunk that
 * passes come back on `rows` so the tree pass need not read them again.
 */
async function entryPassInWorker(path: string, limit: number, claims: BigInt64Array, rows: MessagePort): Promise<EntryPassResult> {
  const here = import.meta.url;
  const options = { workerData: { path, limit, claims, rows }, transferList: [rows] };
  const worker = here.endsWith('.ts')
    ? // Running from TypeScript sources (tests, bench): workers do not inherit tsx's loader, so register it first.
      new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./verify-worker.ts', here).href)}); });`, { eval: true, ...options })
    : new Worker(new URL('./verify-worker.js', here), options);
  const [result] = (await once(worker, 'message')) as [EntryPassResult];
  await worker.terminate();
  if (result.error) throw new Error(result.error);
  return result;
}

/** A chunk's tree rows as the worker posts them (structured clone turns Buffers into Uint8Arrays). */
export interface PostedRows {
  chunk: number;
  rows: number;
  leaves: Uint8Array;
  nodes: Uint8Array;
  badRows: number;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Of two problems, the one at the lower index is the first bad one; the first argument wins ties. */
function firstProblem(first: VerifyProblem | undefined, second: VerifyProblem | undefined): VerifyProblem | undefined {
  if (!first || !second) return first ?? second;
  return (second.index ?? Infinity) < (first.index ?? Infinity) ? second : first;
}

/**
 * Runs the tree pass on this thread in index order, from rows the entry pass (this thread's or the worker's) has
 * already read where it can: while the tree pass's next chunk is not ready this thread checks entry chunks itself,
 * so both threads stay busy and each row is read once. Only when no entry chunk is left to claim does the tree
 * pass read a chunk itself.
 */
function runPasses(tree: TreeScan, entries: EntryPass, ready: Map<number, TreeChunk>, drain: () => void): VerifyProblem | undefined {
  try {
    for (;;) {
      drain();
      const chunk = tree.nextChunk();
      const rows = ready.get(chunk);
      if (rows || !entries.step()) {
        ready.delete(chunk);
        if (!tree.step(rows)) break;
      }
    }
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    while (entries.step());
    return error.problem;
  }
  while (entries.step());
  return undefined;
}

async function verifyStore(path: string, store: LedgerStore, given: string[] | undefined, report: VerifyReport, parallel: boolean): Promise<void> {
  const origin = await store.getMeta('origin');
  if (origin === undefined) fail('database', undefined, 'no origin recorded in the database');
  report.origin = origin;
  const signers = new Set<string>();
  const checkpoints = checkCheckpoints(await store.checkpoints(), origin, await trustedKeys(store, given), signers);
  report.checkpoints = checkpoints.length;
  report.signers = [...signers];

  // Everything below this size is immutable, so every thread sees the same log even while a writer appends.
  const limit = store.head().size;
  const claims = new BigInt64Array(new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT));
  const channel = new MessageChannel();
  const worker = parallel ? entryPassInWorker(path, limit, claims, channel.port2) : undefined;
  const reader = new VerifyReader(path);
  const ready = new Map<number, TreeChunk>();
  let treeProblem: VerifyProblem | undefined;
  let entries: EntryPass;
  let tree: TreeScan;
  try {
    entries = new EntryPass(reader, limit, claims, (chunk, rows) => ready.set(chunk, rows));
    const drain = () => {
      for (let posted; (posted = receiveMessageOnPort(channel.port1)); ) {
        const { chunk, rows, leaves, nodes, badRows } = posted.message as PostedRows;
        if (chunk >= tree.nextChunk()) ready.set(chunk, { rows, leaves: asBuffer(leaves), nodes: asBuffer(nodes), badRows });
      }
    };
    try {
      tree = new TreeScan(reader, checkpoints, limit);
      treeProblem = runPasses(tree, entries, ready, drain);
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      treeProblem = error.problem;
      while (entries.step());
    }
  } catch (error) {
    Atomics.store(claims, 0, BigInt(Number.MAX_SAFE_INTEGER));
    await worker?.catch(() => undefined);
    throw error;
  } finally {
    reader.close();
    channel.port1.close();
  }
  const other = (await worker) ?? {};
  const entryProblem = firstProblem(entries.problem, other.problem);
  const problem = firstProblem(entryProblem, treeProblem);
  if (problem) throw new Problem(problem);
  report.entries = tree!.size;
  report.nodes = tree!.nodes;
  report.root = toHex(tree!.root());
  await checkSuccessiveCheckpoints(store, checkpoints);
  report.payloads = await checkPayloads(store, new Set([...entries.referenced, ...(other.referenced ?? [])]));
}

/**
 * The full offline check of a ledger database, as run by `ledger verify`: every leaf and interior hash is
 * recomputed, every checkpoint's signature, root and consistency with its predecessor checked, every payload
 * checked against its digest. Large ledgers use two threads.
 */
export async function verifyLedgerFile(path: string, opts: { vkeys?: string[]; parallel?: boolean } = {}): Promise<VerifyReport> {
  const store = new SqliteStore(path, { readonly: true });
  const report: VerifyReport = {
    ok: false,
    entries: 0,
    nodes: 0,
    checkpoints: 0,
    signers: [],
    keySource: opts.vkeys ? 'given' : 'database',
    payloads: { present: 0, referenced: 0, deleted: 0 },
  };
  try {
    await verifyStore(path, store, opts.vkeys, report, opts.parallel ?? store.head().size >= PARALLEL_FROM);
    report.ok = true;
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    report.problem = error.problem;
  } finally {
    await store.close();
  }
  return report;
}
