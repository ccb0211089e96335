import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { EMPTY_ROOT, HASH_SIZE, bytesEqual, hashChildren, hashLeaf, sha256Hex, toHex } from './hash.js';
import { TreeReader, verifyConsistency } from './merkle.js';
import { verifyNote } from './note.js';
import { SqliteStore } from './sqlite-store.js';
import { storeLookup, type LedgerStore, type StoredCheckpoint, type StoredEntry } from './store.js';

export interface VerifyProblem {
  kind: 'entry' | 'node' | 'checkpoint' | 'payload' | 'database';
  /** Entry index (for a node: its first leaf; for a checkpoint: its tree size). */
  index?: number;
  message: string;
}

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

class Problem extends Error {
  constructor(readonly problem: VerifyProblem) {
    super(problem.message);
  }
}

function fail(kind: VerifyProblem['kind'], index: number | undefined, message: string): never {
  throw new Problem(index === undefined ? { kind, message } : { kind, index, message });
}

interface SignedCheckpoint extends Checkpoint {
  seq: number;
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

function trustedKeys(store: LedgerStore, given: string[] | undefined): string[] {
  if (given) return given;
  try {
    return JSON.parse(store.getMeta('vkeys') ?? '[]') as string[];
  } catch {
    fail('database', undefined, 'the verifier keys recorded in the database are not valid JSON');
  }
}

function describeNode(level: number, index: number): string {
  const first = index * 2 ** level;
  return `node at level ${level}, index ${index} (entries ${first}..${first + 2 ** level - 1})`;
}

/**
 * One sequential pass over the entries: recompute each leaf hash and every interior node its append completed,
 * and compare them with the copies stored in the entry's row. Checkpoint roots are checked the moment the pass
 * reaches their size. Problems name the entry whose row holds the bad data.
 */
class TreeScan {
  private readonly edge: Uint8Array[] = [];
  private checkpointAt = 0;
  nodes = 0;
  size = 0;
  readonly referenced = new Set<string>();

  constructor(
    private readonly store: LedgerStore,
    private readonly checkpoints: SignedCheckpoint[],
  ) {}

  root(): Uint8Array {
    return this.edge.length === 0 ? EMPTY_ROOT : this.edge.reduceRight((acc, h) => hashChildren(h, acc));
  }

  run(): void {
    this.checkRoots();
    for (const stored of this.store.entries()) this.addEntry(stored);
    const uncovered = this.checkpoints[this.checkpointAt];
    if (uncovered) fail('checkpoint', uncovered.size, `checkpoint #${uncovered.seq} covers ${uncovered.size} entries but the log holds ${this.size}`);
  }

  private addEntry({ index, id, leafHash, nodes, entry }: StoredEntry): void {
    if (index !== this.size) fail('entry', this.size, `entry ${this.size} is missing`);
    if (!bytesEqual(hashLeaf(entry), leafHash)) fail('entry', index, `entry ${index}: stored leaf hash does not match the entry`);
    this.checkRecord(index, id, entry);
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

  /** The id column is an index for lookups; it must agree with the record. */
  private checkRecord(index: number, id: string, entry: Uint8Array): void {
    let record: { id?: unknown; payloads?: Record<string, unknown> };
    try {
      record = JSON.parse(Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString('utf8'));
    } catch (error) {
      fail('entry', index, `entry ${index}: not JSON: ${(error as Error).message}`);
    }
    if (record?.id !== id) fail('entry', index, `entry ${index}: indexed id ${JSON.stringify(id)} differs from the record's id`);
    if (record.payloads) for (const digest of Object.values(record.payloads)) this.referenced.add(String(digest));
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

function checkSuccessiveCheckpoints(store: LedgerStore, checkpoints: SignedCheckpoint[]): void {
  const reader = new TreeReader(storeLookup(store));
  for (let i = 1; i < checkpoints.length; i++) {
    const [a, b] = [checkpoints[i - 1]!, checkpoints[i]!];
    if (!verifyConsistency(a.size, b.size, a.root, b.root, reader.consistencyProof(a.size, b.size))) {
      fail('checkpoint', b.size, `checkpoint #${b.seq} (size ${b.size}) is not consistent with checkpoint #${a.seq} (size ${a.size})`);
    }
  }
}

function checkPayloads(store: LedgerStore, referenced: Set<string>): VerifyReport['payloads'] {
  let present = 0;
  for (const { digest, data } of store.payloads()) {
    if (`sha256:${sha256Hex(data)}` !== digest) fail('payload', undefined, `payload ${digest} does not match its digest`);
    if (!referenced.has(digest)) fail('payload', undefined, `payload ${digest} is not referenced by any entry`);
    present++;
  }
  return { present, referenced: referenced.size, deleted: referenced.size - present };
}

function verifyStore(store: LedgerStore, given: string[] | undefined, report: VerifyReport): void {
  const origin = store.getMeta('origin');
  if (origin === undefined) fail('database', undefined, 'no origin recorded in the database');
  report.origin = origin;
  const signers = new Set<string>();
  const checkpoints = checkCheckpoints(store.checkpoints(), origin, trustedKeys(store, given), signers);
  report.checkpoints = checkpoints.length;
  report.signers = [...signers];
  const scan = new TreeScan(store, checkpoints);
  scan.run();
  report.entries = scan.size;
  report.nodes = scan.nodes;
  report.root = toHex(scan.root());
  checkSuccessiveCheckpoints(store, checkpoints);
  report.payloads = checkPayloads(store, scan.referenced);
}

/** The full offline check of a ledger database, as run by `ledger verify`. */
export async function verifyLedgerFile(path: string, opts: { vkeys?: string[] } = {}): Promise<VerifyReport> {
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
    verifyStore(store, opts.vkeys, report);
    report.ok = true;
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    report.problem = error.problem;
  } finally {
    store.close();
  }
  return report;
}
