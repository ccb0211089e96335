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
  /** Entries 0..verified-1 were checked and found good (all of them when ok). */
  verified: number;
  /** Whether the payloads were checked (verify stops at the first problem). */
  payloadsChecked: boolean;
  /** Hex root of the whole tree, when verification got that far. */
  root?: string;
  /** A checkpoint saved earlier, checked to be a prefix of the ledger (verifyLedgerFile's `checkpoint` option). */
  saved?: { size: number; root: string; consistent: boolean };
  problem?: VerifyProblem;
}

export interface VerifyOptions {
  /** Trusted verifier keys; default: the keys recorded in the database (weaker: says so in the report). */
  vkeys?: string[];
  /** Check on two threads; default from 50,000 entries. */
  parallel?: boolean;
  /**
   * A signed checkpoint saved earlier (e.g. fetched from /checkpoint, or cosigned by a witness): the ledger must be
   * a consistent extension of it, so deleting the newest entries with their checkpoints, or rewriting any entry it
   * covers, fails verification.
   */
  checkpoint?: string;
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

/** The saved checkpoint must be signed by a trusted key, for this log, and its tree a prefix of the ledger's. */
async function checkSaved(store: LedgerStore, note: string, origin: string, vkeys: string[], size: number, report: VerifyReport): Promise<void> {
  let saved: Checkpoint;
  try {
    verifyNote(note, vkeys);
    saved = parseCheckpoint(note);
  } catch (error) {
    fail('checkpoint', undefined, `saved checkpoint: ${(error as Error).message}`);
  }
  if (saved.origin !== origin) fail('checkpoint', undefined, `saved checkpoint is for origin ${saved.origin}, not ${origin}`);
  report.saved = { size: saved.size, root: toHex(saved.root), consistent: false };
  if (saved.size > size) {
    fail('checkpoint', saved.size, `the ledger holds ${size} entries but the saved checkpoint covers ${saved.size}: entries were removed since it was signed (truncation)`);
  }
  const reader = new TreeReader(storeLookup(store));
  const [root, proof] = await Promise.all([reader.root(size), reader.consistencyProof(saved.size, size)]);
  if (!verifyConsistency(saved.size, size, saved.root, root, proof)) {
    fail('checkpoint', saved.size, `the ledger is not an extension of the saved checkpoint of size ${saved.size}: entries it covers were changed (rewrite)`);
  }
  report.saved.consistent = true;
}

async function verifyStore(path: string, store: LedgerStore, given: string[] | undefined, report: VerifyReport, parallel: boolean, saved?: string): Promise<void> {
  // Everything below this size is immutable, so every thread sees the same log even while a writer appends.
  const limit = store.head().size;
  report.entries = limit;
  const origin = await store.getMeta('origin');
  if (origin === undefined) fail('database', undefined, 'no origin recorded in the database');
  report.origin = origin;
  const signers = new Set<string>();
  const vkeys = await trustedKeys(store, given);
  const checkpoints = checkCheckpoints(await store.checkpoints(), origin, vkeys, signers);
  report.checkpoints = checkpoints.length;
  report.signers = [...signers];

  const claims = new BigInt64Array(new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT));
  const channel = new MessageChannel();
  const worker = parallel ? entryPassInWorker(path, limit, claims, channel.port2) : undefined;
  const reader = new VerifyReader(path);
  const ready = new Map<number, TreeChunk>();
  let treeProblem: VerifyProblem | undefined;
  let entries: EntryPass;
  let tree: TreeScan | undefined;
  try {
    entries = new EntryPass(reader, limit, claims, (chunk, rows) => ready.set(chunk, rows));
    const drain = () => {
      for (let posted; (posted = receiveMessageOnPort(channel.port1)); ) {
        const { chunk, rows, leaves, nodes, badRows } = posted.message as PostedRows;
        if (chunk >= tree!.nextChunk()) ready.set(chunk, { rows, leaves: asBuffer(leaves), nodes: asBuffer(nodes), badRows });
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
  report.nodes = tree?.nodes ?? 0;
  if (problem) {
    // The entries before the first bad index passed both passes (the tree pass stops where it failed).
    report.verified = Math.min(problem.index ?? 0, tree?.size ?? 0);
    throw new Problem(problem);
  }
  report.verified = tree!.size;
  report.root = toHex(tree!.root());
  await checkSuccessiveCheckpoints(store, checkpoints);
  report.payloads = await checkPayloads(store, new Set([...entries.referenced, ...(other.referenced ?? [])]));
  report.payloadsChecked = true;
  if (saved !== undefined) await checkSaved(store, saved, origin, vkeys, limit, report);
}

/**
 * The full offline check of a ledger database, as run by `ledger verify`: every leaf and interior hash is
 * recomputed, every checkpoint's signature, root and consistency with its predecessor checked, every payload
 * checked against its digest. Large ledgers use two threads.
 */
export async function verifyLedgerFile(path: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const store = new SqliteStore(path, { readonly: true });
  const report: VerifyReport = {
    ok: false,
    entries: 0,
    nodes: 0,
    checkpoints: 0,
    signers: [],
    keySource: opts.vkeys ? 'given' : 'database',
    payloads: { present: 0, referenced: 0, deleted: 0 },
    verified: 0,
    payloadsChecked: false,
  };
  try {
    await verifyStore(path, store, opts.vkeys, report, opts.parallel ?? store.head().size >= PARALLEL_FROM, opts.checkpoint);
    report.ok = true;
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    report.problem = error.problem;
  } finally {
    await store.close();
  }
  return report;
}
