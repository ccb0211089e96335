import type { Checkpoint } from './checkpoint.js';
import { EMPTY_ROOT, HASH_SIZE, bytesEqual, hashChildren, hashLeaf } from './hash.js';
import type { LedgerStore } from './store.js';

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
 * Entry pass: each stored leaf hash must be the hash of its entry, and the id column (an index for lookups) must
 * agree with the record. Collects the payload digests the records reference.
 */
export function scanEntries(store: LedgerStore, limit: number): { size: number; referenced: string[] } {
  const referenced = new Set<string>();
  let size = 0;
  for (const { index, leafHash, entry, isJson, idMatches, payloads } of store.entryChecks(limit)) {
    checkNext(index, size);
    if (!bytesEqual(hashLeaf(entry), leafHash)) fail('entry', index, `entry ${index}: stored leaf hash does not match the entry`);
    if (!isJson) fail('entry', index, `entry ${index}: not JSON`);
    if (!idMatches) fail('entry', index, `entry ${index}: the indexed id differs from the record's id`);
    if (payloads) for (const digest of Object.values(JSON.parse(payloads) as Record<string, unknown>)) referenced.add(String(digest));
    size++;
  }
  return { size, referenced: [...referenced] };
}

function describeNode(level: number, index: number): string {
  const first = index * 2 ** level;
  return `node at level ${level}, index ${index} (entries ${first}..${first + 2 ** level - 1})`;
}

/**
 * Tree pass: from the stored leaf hashes, recompute every interior node each append completed and compare it with
 * the copy stored in that entry's row; check each checkpoint's root the moment the pass reaches its size.
 * Problems name the entry whose row holds the bad data.
 */
export class TreeScan {
  private readonly edge: Uint8Array[] = [];
  private checkpointAt = 0;
  nodes = 0;
  size = 0;

  constructor(
    private readonly store: LedgerStore,
    private readonly checkpoints: SignedCheckpoint[],
    private readonly limit: number,
  ) {}

  root(): Uint8Array {
    return this.edge.length === 0 ? EMPTY_ROOT : this.edge.reduceRight((acc, h) => hashChildren(h, acc));
  }

  run(): void {
    this.checkRoots();
    for (const row of this.store.treeRows(this.limit)) this.addRow(row);
    const uncovered = this.checkpoints[this.checkpointAt];
    if (uncovered) fail('checkpoint', uncovered.size, `checkpoint #${uncovered.seq} covers ${uncovered.size} entries but the log holds ${this.size}`);
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

  private checkRoots(): void {
    for (; this.checkpoints[this.checkpointAt]?.size === this.size; this.checkpointAt++) {
      const checkpoint = this.checkpoints[this.checkpointAt]!;
      if (!bytesEqual(this.root(), checkpoint.root)) {
        fail('checkpoint', this.size, `checkpoint #${checkpoint.seq} (size ${this.size}) signs a root that does not match the entries`);
      }
    }
  }
}

