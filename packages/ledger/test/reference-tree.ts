/**
 * A deliberately naive RFC 9162 tree over an array of leaves, written straight from the RFC's recursive
 * definitions. Tests use it as an independent oracle for the optimized code in src/.
 */
import { createHash } from 'node:crypto';

export function sha(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export const leafHashOf = (d: Uint8Array) => sha(Buffer.from([0]), d);
const nodeHashOf = (l: Uint8Array, r: Uint8Array) => sha(Buffer.from([1]), l, r);

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

export function mth(leaves: Uint8Array[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return leafHashOf(leaves[0]!);
  const split = k(leaves.length);
  return nodeHashOf(mth(leaves.slice(0, split)), mth(leaves.slice(split)));
}

export function path(m: number, leaves: Uint8Array[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const split = k(leaves.length);
  return m < split
    ? [...path(m, leaves.slice(0, split)), mth(leaves.slice(split))]
    : [...path(m - split, leaves.slice(split)), mth(leaves.slice(0, split))];
}

function subproof(m: number, leaves: Uint8Array[], b: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return b ? [] : [mth(leaves)];
  const split = k(n);
  return m <= split
    ? [...subproof(m, leaves.slice(0, split), b), mth(leaves.slice(split))]
    : [...subproof(m - split, leaves.slice(split), false), mth(leaves.slice(0, split))];
}

export function consistency(m: number, leaves: Uint8Array[]): Buffer[] {
  return m === 0 || m === leaves.length ? [] : subproof(m, leaves, true);
}

/** Lookup of perfect subtrees for src/merkle TreeReader, computed naively. */
export function naiveLookup(leaves: Uint8Array[]) {
  return async (refs: readonly { level: number; index: number }[]) =>
    refs.map(({ level, index }) => {
      const width = 2 ** level;
      if ((index + 1) * width > leaves.length) throw new Error(`no subtree ${level}/${index}`);
      return mth(leaves.slice(index * width, (index + 1) * width));
    });
}

const is32 = (h: unknown) => h instanceof Uint8Array && h.length === 32;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Which side each PATH(m, D[n]) element sits on, leaf upwards, from the recursive definition. */
function sides(m: number, n: number): ('left' | 'right')[] {
  if (n <= 1) return [];
  const split = k(n);
  return m < split ? [...sides(m, split), 'right'] : [...sides(m - split, n - split), 'left'];
}

/** Reference inclusion check: fold the proof along the sides the RFC recursion assigns. */
export function referenceVerifyInclusion(i: number, n: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array): boolean {
  if (!(Number.isSafeInteger(i) && Number.isSafeInteger(n) && i >= 0 && i < n)) return false;
  if (![leaf, root, ...proof].every(is32)) return false;
  const s = sides(i, n);
  if (s.length !== proof.length) return false;
  const r = proof.reduce((acc, p, j) => (s[j] === 'right' ? nodeHashOf(acc, p) : nodeHashOf(p, acc)), Buffer.from(leaf));
  return same(r, root);
}

/** Reference consistency check: rebuild both roots by walking SUBPROOF's recursion, consuming the proof from its end. */
export function referenceVerifyConsistency(m: number, n: number, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]): boolean {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m <= n)) return false;
  if (![root1, root2, ...proof].every(is32)) return false;
  if (m === n) return proof.length === 0 && same(root1, root2);
  if (m === 0) return proof.length === 0 && same(root1, sha());
  const rest = [...proof];
  const take = () => rest.pop();
  const walk = (m: number, n: number, b: boolean): { old: Uint8Array; now: Uint8Array } | undefined => {
    if (m === n) {
      if (b) return { old: root1, now: root1 };
      const c = take();
      return c && { old: c, now: c };
    }
    const split = k(n);
    const sibling = take();
    if (!sibling) return undefined;
    if (m <= split) {
      const inner = walk(m, split, b);
      return inner && { old: inner.old, now: nodeHashOf(inner.now, sibling) };
    }
    const inner = walk(m - split, n - split, false);
    return inner && { old: nodeHashOf(sibling, inner.old), now: nodeHashOf(sibling, inner.now) };
  };
  const result = walk(m, n, true);
  return result !== undefined && rest.length === 0 && same(result.old, root1) && same(result.now, root2);
}
