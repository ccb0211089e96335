import type { Checkpoint } from './checkpoint.js';
import { EMPTY_ROOT, HASH_SIZE, bytesEqual, hashChildren, hashLeaf } from './hash.js';
import { CHUNK_ROWS, type EntryChunk, type TreeChunk, type VerifyReader } from './verify-reader.js';

export interface VerifyProblem {
  kind: 'entry' | 'node' | 'checkpoint' | 'payload' | 'database';
  /** Entry index (for an interior node: the entry whose row stores it; for a checkpoint: its tree size). */
  index?: number;
  message: string;
}

export class Problem extends Error {
  constructor(readonly problem: VerifyProblem) {
    super(problem.message);
  }
}

export function fail(kind: VerifyProblem['kind'], index: number | undefined, message: string): never {
  throw new Problem(index === undefined ? { kind, message } : { kind, index, message });
}

export interface SignedCheckpoint extends Checkpoint {
  seq: number;
}

/** Stops a pass at a gap in the entry indexes. */
function checkNext(index: number, expected: number): void {
  if (index !== expected) fail('entry', expected, `entry ${expected} is missing`);
}

/**
 * Every chunk is first checked in bulk (one query, no per-row objects); only a chunk that fails is re-read row by
 * row to name the first bad index. The row check must then fail too: if it does not, the two disagree.
 */
function pinpoint(pass: string, start: number, end: number, checkRows: () => void): never {
  checkRows();
  throw new Error(`verify: the bulk and row-by-row ${pass} checks of entries ${start}..${end - 1} disagree`);
}

/**
 * Rows of a chunk whose entry may hold a `payloads` member: the name appears literally, or the entry uses a \u
 * escape (which could spell it). A byte search over the whole chunk spares parsing the other records.
 */
function payloadCandidates({ entries, entryLengths }: EntryChunk): number[] {
  const hits: number[] = [];
  for (const needle of ['"payloads"', '\\u']) {
    for (let at = entries.indexOf(needle); at >= 0; at = entries.indexOf(needle, at + 1)) hits.push(at);
  }
  if (hits.length === 0) return [];
  hits.sort((a, b) => a - b);
  const rows: number[] = [];
  let row = 0;
  let rowEnd = entryLengths[0]!;
  for (const at of hits) {
    while (at >= rowEnd) rowEnd += entryLengths[++row]!;
    if (rows.at(-1) !== row) rows.push(row);
  }
  return rows;
}

function collectDigests(chunk: EntryChunk, referenced: Set<string>): void {
  const candidates = payloadCandidates(chunk);
  if (candidates.length === 0) return;
  const offsets = [0];
  for (const length of chunk.entryLengths) offsets.push(offsets.at(-1)! + length);
  for (const row of candidates) {
    const record = JSON.parse(chunk.entries.toString('utf8', offsets[row], offsets[row + 1])) as { payloads?: unknown };
    if (record.payloads !== null && typeof record.payloads === 'object') {
      for (const digest of Object.values(record.payloads)) referenced.add(String(digest));
    }
  }
}

function leavesMatch({ leaves, entries, entryLengths }: EntryChunk): boolean {
  if (leaves.length !== entryLengths.length * HASH_SIZE) return false;
  const computed = Buffer.allocUnsafe(leaves.length);
  let at = 0;
  for (let i = 0; i < entryLengths.length; i++) {
    const length = entryLengths[i]!;
    computed.set(hashLeaf(entries.subarray(at, at + length)), i * HASH_SIZE);
    at += length;
  }
  return at === entries.length && computed.equals(leaves);
}

/**
 * Entry pass: each stored leaf hash must be the hash of its entry, and the id column (an index for lookups) must
 * agree with the record. Collects the payload digests the records reference. Its chunks are claimed from a counter
 * shared between threads, so each thread takes as large a share as its other work and the machine's load allow.
 */
export class EntryPass {
  readonly referenced = new Set<string>();
  problem?: VerifyProblem;
  private readonly chunks: number;

  /**
   * claims[0] is the next unclaimed chunk number, shared (SharedArrayBuffer) by every thread running this pass;
   * each chunk that passes is handed to onChecked with the rows the tree pass needs.
   */
  constructor(
    private readonly reader: VerifyReader,
    private readonly limit: number,
    private readonly claims: BigInt64Array,
    private readonly onChecked: (chunk: number, rows: TreeChunk) => void = () => {},
  ) {
    this.chunks = Math.ceil(limit / CHUNK_ROWS);
  }

  /** Chunks not yet claimed by any thread. */
  remaining(): number {
    return Math.max(0, this.chunks - Number(Atomics.load(this.claims, 0)));
  }

  /** Checks the next unclaimed chunk; false once none is left or a problem was found. */
  step(): boolean {
    if (this.problem) return false;
    const chunk = Number(Atomics.add(this.claims, 0, 1n));
    if (chunk >= this.chunks) return false;
    const start = chunk * CHUNK_ROWS;
    try {
      this.onChecked(chunk, this.checkChunk(start, Math.min(start + CHUNK_ROWS, this.limit)));
      return true;
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      this.problem = error.problem;
      // Chunks are claimed in order, so every chunk before this one is already claimed and will be finished;
      // later ones cannot hold the first problem.
      Atomics.store(this.claims, 0, BigInt(this.chunks));
      return false;
    }
  }

  private checkChunk(start: number, end: number): TreeChunk {
    const chunk = this.reader.entryChunk(start, end);
    if (chunk.rows === end - start && chunk.badRows === 0 && leavesMatch(chunk)) {
      collectDigests(chunk, this.referenced);
      return chunk.tree;
    }
    pinpoint('entry', start, end, () => this.checkRows(start, end));
  }

  private checkRows(start: number, end: number): void {
    let expected = start;
    for (const { index, leafHash, entry, isJson, idMatches } of this.reader.entryRows(start, end)) {
      checkNext(index, expected);
      if (!bytesEqual(hashLeaf(entry), leafHash)) fail('entry', index, `entry ${index}: stored leaf hash does not match the entry`);
      if (!isJson) fail('entry', index, `entry ${index}: not JSON`);
      if (!idMatches) fail('entry', index, `entry ${index}: the indexed id differs from the record's id`);
      expected++;
    }
    if (expected < end) checkNext(-1, expected);
  }
}

function describeNode(level: number, index: number): string {
  const first = index * 2 ** level;
  return `node at level ${level}, index ${index} (entries ${first}..${first + 2 ** level - 1})`;
}

/**
 * Tree pass: from the stored leaf hashes, recompute every interior node each append completed and compare it with
 * the copy stored in that entry's row; check each checkpoint's root the moment the pass reaches its size.
 * Problems name the entry whose row holds the bad data. Runs chunk by chunk (step) so one thread can interleave it
 * with entry chunks.
 */
export class TreeScan {
  private edge: Uint8Array[] = [];
  private checkpointAt = 0;
  nodes = 0;
  size = 0;

  constructor(
    private readonly reader: VerifyReader,
    private readonly checkpoints: SignedCheckpoint[],
    private readonly limit: number,
  ) {
    this.checkRoots();
  }

  root(): Uint8Array {
    return this.edge.length === 0 ? EMPTY_ROOT : this.edge.reduceRight((acc, h) => hashChildren(h, acc));
  }

  /** The chunk the next step scans. */
  nextChunk(): number {
    return Math.floor(this.size / CHUNK_ROWS);
  }

  /** Chunks left to scan. */
  remaining(): number {
    return Math.ceil((this.limit - this.size) / CHUNK_ROWS);
  }

  /** Scans the next chunk (from rows already read for the entry pass, if given); false once the log is done. */
  step(rows?: TreeChunk): boolean {
    if (this.size >= this.limit) {
      const uncovered = this.checkpoints[this.checkpointAt];
      if (uncovered) fail('checkpoint', uncovered.size, `checkpoint #${uncovered.seq} covers ${uncovered.size} entries but the log holds ${this.size}`);
      return false;
    }
    const start = this.size;
    const end = Math.min(start + CHUNK_ROWS, this.limit);
    const saved = { edge: [...this.edge], checkpointAt: this.checkpointAt };
    if (this.bulkChunk(start, end, rows ?? this.reader.treeChunk(start, end))) return true;
    [this.edge, this.checkpointAt, this.size] = [saved.edge, saved.checkpointAt, start];
    pinpoint('tree', start, end, () => {
      for (const row of this.reader.treeRows(start, end)) this.addRow(row);
      if (this.size < end) checkNext(-1, this.size);
    });
  }

  /** The chunk's nodes recomputed and compared in one go; false on any difference. */
  private bulkChunk(start: number, end: number, { rows, leaves, nodes, badRows }: TreeChunk): boolean {
    if (rows !== end - start || badRows !== 0 || leaves.length !== rows * HASH_SIZE) return false;
    const computed = Buffer.allocUnsafe(nodes.length);
    let at = 0;
    for (let index = start; index < end; index++) {
      let hash: Uint8Array = leaves.subarray((index - start) * HASH_SIZE, (index - start + 1) * HASH_SIZE);
      for (let nodeIndex = index; nodeIndex % 2 === 1; nodeIndex = (nodeIndex - 1) / 2) {
        if (at === nodes.length) return false;
        hash = hashChildren(this.edge.pop()!, hash);
        computed.set(hash, at);
        at += HASH_SIZE;
      }
      this.edge.push(hash);
      this.size++;
      if (!this.rootsMatch()) return false;
    }
    if (at !== nodes.length || !computed.equals(nodes)) return false;
    this.nodes += at / HASH_SIZE;
    return true;
  }

  private addRow({ index, leafHash, nodes }: { index: number; leafHash: Uint8Array; nodes: Uint8Array }): void {
    checkNext(index, this.size);
    let hash = leafHash;
    let nodeIndex = index;
    let level = 0;
    while (nodeIndex % 2 === 1) {
      hash = hashChildren(this.edge.pop()!, hash);
      nodeIndex = (nodeIndex - 1) / 2;
      level++;
      const stored = nodes.subarray((level - 1) * HASH_SIZE, level * HASH_SIZE);
      if (!bytesEqual(stored, hash)) fail('node', index, `entry ${index}: stored ${describeNode(level, nodeIndex)} does not match the entries`);
    }
    if (nodes.length !== level * HASH_SIZE) fail('node', index, `entry ${index}: ${nodes.length} bytes of interior hashes stored, ${level * HASH_SIZE} expected`);
    this.nodes += level;
    this.edge.push(hash);
    this.size++;
    this.checkRoots();
  }

  /** Whether every checkpoint at the current size signs the current root (advancing past those that do). */
  private rootsMatch(): boolean {
    for (; this.checkpoints[this.checkpointAt]?.size === this.size; this.checkpointAt++) {
      if (!bytesEqual(this.root(), this.checkpoints[this.checkpointAt]!.root)) return false;
    }
    return true;
  }

  private checkRoots(): void {
    if (!this.rootsMatch()) {
      const checkpoint = this.checkpoints[this.checkpointAt]!;
      fail('checkpoint', this.size, `checkpoint #${checkpoint.seq} (size ${this.size}) signs a root that does not match the entries`);
    }
  }
}
