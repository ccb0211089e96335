import { EMPTY_ROOT, HASH_SIZE, bytesEqual, hashChildren } from './hash.js';

/** A tree size or leaf index: a non-negative integer, as number or bigint. */
export type TreeIndex = number | bigint;

function asBigInt(value: TreeIndex): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n ? value : undefined;
  return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
}

function allHashes(hashes: readonly Uint8Array[]): boolean {
  return hashes.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE);
}

/** RFC 9162 §2.1.3.2. Rejects (returns false) on any malformed input instead of throwing. */
export function verifyInclusion(
  index: TreeIndex,
  size: TreeIndex,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const leafIndex = asBigInt(index);
  const treeSize = asBigInt(size);
  if (leafIndex === undefined || treeSize === undefined || leafIndex >= treeSize) return false;
  if (!Array.isArray(proof) || !allHashes([leafHash, root, ...proof])) return false;
  let fn = leafIndex;
  let sn = treeSize - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && bytesEqual(r, root);
}

/**
 * RFC 9162 §2.1.4.2, plus the edge cases the RFC leaves to the caller: equal sizes need an empty proof and equal
 * roots; a first size of 0 needs an empty proof and the empty-tree root.
 */
export function verifyConsistency(
  size1: TreeIndex,
  size2: TreeIndex,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  const first = asBigInt(size1);
  const second = asBigInt(size2);
  if (first === undefined || second === undefined || first > second) return false;
  if (!Array.isArray(proof) || !allHashes([root1, root2, ...proof])) return false;
  if (first === second) return proof.length === 0 && bytesEqual(root1, root2);
  if (first === 0n) return proof.length === 0 && bytesEqual(root1, EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = (first & (first - 1n)) === 0n ? [root1, ...proof] : [...proof];
  let fn = first - 1n;
  let sn = second - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && bytesEqual(fr, root1) && bytesEqual(sr, root2);
}

/** The full, aligned subtree of 2^level leaves starting at leaf index * 2^level (level 0 = a leaf hash). */
export interface NodeRef {
  level: number;
  index: number;
}

/** Fetches many stored subtree hashes at once, in the order asked; rejects if one is missing. */
export type NodeLookup = (refs: readonly NodeRef[]) => Promise<Uint8Array[]>;

/**
 * Remembers subtree hashes at level >= minLevel (immutable once complete). They are few (n / 2^minLevel, and at
 * most capacity, ~30 MB) yet make up most of every proof, so proofs mostly touch storage only for the low levels.
 */
export function cachedLookup(lookup: NodeLookup, minLevel = 4, capacity = 1 << 18): NodeLookup {
  // One map per level keeps the keys small integers, which V8 hashes far faster than 2^47-scale doubles.
  const levels: Map<number, Uint8Array>[] = [];
  let cached = 0;
  const get = (r: NodeRef) => (r.level >= minLevel ? levels[r.level]?.get(r.index) : undefined);
  return (refs) => {
    const found = refs.map(get);
    const missing = refs.filter((_, i) => !found[i]);
    if (missing.length === 0) return Promise.resolve(found as Uint8Array[]);
    return lookup(missing).then((fetched) => {
      let next = 0;
      return refs.map((r, i) => {
        if (found[i]) return found[i]!;
        const hash = fetched[next++]!;
        if (r.level >= minLevel && cached < capacity) {
          (levels[r.level] ??= new Map()).set(r.index, hash);
          cached++;
        }
        return hash;
      });
    });
  };
}

/** floor(log2(n)) for a positive integer below 2^53. */
function log2Floor(n: number): number {
  if (n < 2 ** 31) return 31 - Math.clz32(n);
  let level = Math.floor(Math.log2(n));
  // Math.log2 may round across a power of two for large n; settle it exactly.
  while (2 ** level > n) level--;
  while (2 ** (level + 1) <= n) level++;
  return level;
}

function largestPowerOfTwoBelow(n: number): number {
  return n <= 1 ? 1 : 2 ** log2Floor(n - 1);
}

/**
 * The perfect subtrees whose hashes, folded from the right, give MTH(D[start:end]); valid for every range the
 * RFC 9162 recursion produces (start is a multiple of the range's enclosing power of two).
 */
function subtrees(start: number, end: number): NodeRef[] {
  const refs: NodeRef[] = [];
  while (end > start) {
    const level = log2Floor(end - start);
    refs.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return refs;
}

function foldRight(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let root = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) root = hashChildren(hashes[i]!, root);
  return root;
}

/**
 * Roots and proofs of any tree size from stored full-subtree hashes: one batched lookup of O(log n) hashes per
 * answer, never a re-read of the leaves. Sizes here are numbers (the store addresses leaves below 2^47).
 */
export class TreeReader {
  /**
   * Roots of ranges that are not one perfect subtree. The recursion only makes those at the right edge of a tree
   * size, so all proofs for one size share them; their hashes never change, so any can be kept.
   */
  private readonly edgeRoots = new Map<string, Uint8Array>();

  constructor(private readonly lookup: NodeLookup) {}

  /** Hashes of several ranges with a single lookup. */
  private async rangeRoots(ranges: readonly [number, number][]): Promise<Uint8Array[]> {
    const refs: NodeRef[] = [];
    // Per range: its root when already known, else how many of the looked-up hashes fold into it.
    const plan: (Uint8Array | number)[] = [];
    for (const [start, end] of ranges) {
      const length = end - start;
      const level = log2Floor(length);
      if (2 ** level === length) {
        refs.push({ level, index: start / length });
        plan.push(1);
        continue;
      }
      const known = this.edgeRoots.get(`${start}:${end}`);
      if (known) {
        plan.push(known);
        continue;
      }
      const parts = subtrees(start, end);
      refs.push(...parts);
      plan.push(parts.length);
    }
    const hashes = refs.length ? await this.lookup(refs) : [];
    let at = 0;
    return plan.map((step, i) => {
      if (typeof step !== 'number') return step;
      if (step === 1) return hashes[at++]!;
      const root = foldRight(hashes.slice(at, (at += step)));
      this.rememberEdgeRoot(ranges[i]!, root);
      return root;
    });
  }

  private rememberEdgeRoot([start, end]: [number, number], root: Uint8Array): void {
    if (this.edgeRoots.size >= 4096) this.edgeRoots.clear();
    this.edgeRoots.set(`${start}:${end}`, root);
  }

  async root(size: number): Promise<Uint8Array> {
    return (await this.rangeRoots([[0, size]]))[0]!;
  }

  /** PATH(index, D[0:size]), RFC 9162 §2.1.3.1. */
  inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    if (!(index >= 0 && index < size)) return Promise.reject(new RangeError(`inclusion proof: index ${index} is outside a tree of size ${size}`));
    let start = 0;
    let end = size;
    const siblings: [number, number][] = [];
    while (end - start > 1) {
      const k = largestPowerOfTwoBelow(end - start);
      if (index - start < k) {
        siblings.push([start + k, end]);
        end = start + k;
      } else {
        siblings.push([start, start + k]);
        start += k;
      }
    }
    return this.rangeRoots(siblings.reverse());
  }

  /** PROOF(size1, D[0:size2]), RFC 9162 §2.1.4.1; empty for size1 = 0 or size1 = size2. */
  consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    if (!(size1 >= 0 && size1 <= size2)) return Promise.reject(new RangeError(`consistency proof: sizes ${size1} and ${size2} are not in order`));
    if (size1 === 0 || size1 === size2) return Promise.resolve([]);
    const outer: [number, number][] = [];
    let m = size1;
    let start = 0;
    let end = size2;
    let complete = true;
    while (m !== end - start) {
      const k = largestPowerOfTwoBelow(end - start);
      if (m <= k) {
        outer.push([start + k, end]);
        end = start + k;
      } else {
        outer.push([start, start + k]);
        m -= k;
        start += k;
        complete = false;
      }
    }
    return this.rangeRoots([...(complete ? [] : [[start, end] as [number, number]]), ...outer.reverse()]);
  }
}

/**
 * Where an interior node is stored: beside the leaf whose append completed it, i.e. the last leaf it covers,
 * at its position among the nodes that append completed (lowest level first).
 */
export function nodeHome(level: number, index: number): { entry: number; offset: number } {
  return { entry: (index + 1) * 2 ** level - 1, offset: (level - 1) * HASH_SIZE };
}

/** A completed full subtree produced while appending. */
export interface NewNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

/**
 * The right edge of the tree: the roots of the perfect subtrees that make up size leaves (largest first).
 * Appending a leaf merges equal-height neighbours and reports every node it completes.
 */
export class CompactRange {
  private constructor(
    private size: number,
    private readonly edge: Uint8Array[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** Rebuilds the edge of a stored tree with one batched lookup of one hash per set bit of size. */
  static async load(size: number, lookup: NodeLookup): Promise<CompactRange> {
    return new CompactRange(size, await lookup(subtrees(0, size)));
  }

  get length(): number {
    return this.size;
  }

  clone(): CompactRange {
    return new CompactRange(this.size, [...this.edge]);
  }

  /** Adds one leaf; calls onNode for each interior node it completes, lowest first. */
  append(leafHash: Uint8Array, onNode?: (node: NewNode) => void): void {
    let hash = leafHash;
    let index = this.size;
    let level = 0;
    while (index % 2 === 1) {
      hash = hashChildren(this.edge.pop()!, hash);
      index = (index - 1) / 2;
      level++;
      onNode?.({ level, index, hash });
    }
    this.edge.push(hash);
    this.size++;
  }

  root(): Uint8Array {
    return foldRight(this.edge);
  }
}
