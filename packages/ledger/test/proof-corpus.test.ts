/**
 * An independent corpus of valid and malformed proofs, generated with fast-check over random trees: genuine
 * proofs, then bit flips, missing/extra/reordered hashes, wrong-length hashes, wrong sizes and indexes, wrong
 * leaves and roots. The oracle is reference-tree.ts, written from the RFC's recursive definitions (not the
 * bit-walking algorithm under test). Note a proof does not bind the tree size by itself: (i, s) and (i, s') with
 * the same path shape verify alike, which is why checkpoints sign size and root together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TreeReader, verifyConsistency, verifyInclusion } from '@oagf/ledger';
import { consistency, leafHashOf, mth, naiveLookup, path, referenceVerifyConsistency, referenceVerifyInclusion } from './reference-tree.js';

type Hashes = Uint8Array[];
const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const sameHashes = (a: Hashes, b: Hashes) => a.length === b.length && a.every((h, i) => h.length === 32 && eq(h, b[i]!));

const treeArb = fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 });

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  if (copy.length > 0) copy[Math.floor(bit / 8) % copy.length]! ^= 1 << bit % 8;
  return copy;
}

/** Applies one mutation to a list of hashes. */
function mutateHashes(hashes: Hashes, kind: number, at: number, bit: number): Hashes {
  const i = hashes.length ? at % hashes.length : 0;
  const copy = [...hashes];
  switch (kind) {
    case 0: // bit flip
      if (copy.length) copy[i] = flipBit(copy[i]!, bit);
      return copy;
    case 1: // missing hash
      copy.splice(i, 1);
      return copy;
    case 2: // extra hash
      copy.splice(i, 0, copy[i] ?? new Uint8Array(32));
      return copy;
    case 3: // truncated (wrong length)
      if (copy.length) copy[i] = copy[i]!.subarray(0, 31);
      return copy;
    case 4: // extended (wrong length)
      if (copy.length) copy[i] = Uint8Array.from([...copy[i]!, 0]);
      return copy;
    default: // reordered
      return copy.reverse();
  }
}

test('inclusion verifier accepts exactly the valid proofs', () => {
  let accepted = 0;
  let rejected = 0;
  fc.assert(
    fc.property(treeArb, fc.nat(), fc.nat(), fc.nat(11), fc.nat(), fc.nat(), fc.integer({ min: -3, max: 3 }), (leaves, a, b, kind, at, bit, delta) => {
      const treeSize = leaves.length;
      const size = 1 + (a % treeSize);
      const index = b % size;
      let claim = { index, size, leaf: leafHashOf(leaves[index]!) as Uint8Array, root: mth(leaves.slice(0, size)) as Uint8Array, proof: path(index, leaves.slice(0, size)) as Hashes };
      if (kind <= 5) claim.proof = mutateHashes(claim.proof, kind, at, bit);
      else if (kind === 6) claim = { ...claim, index: claim.index + delta };
      else if (kind === 7) claim = { ...claim, size: claim.size + delta };
      else if (kind === 8) claim = { ...claim, leaf: flipBit(claim.leaf, bit) };
      else if (kind === 9) claim = { ...claim, root: bit % 2 ? flipBit(claim.root, bit) : claim.root.subarray(0, 16) };
      else if (kind === 10) claim = { ...claim, leaf: claim.leaf.subarray(0, 31) };
      // kind 11: unmodified
      const { index: i, size: s } = claim;
      const valid = referenceVerifyInclusion(i, s, claim.leaf, claim.proof, claim.root);
      if (kind === 11) assert.ok(valid, 'a genuine proof is valid');
      const got = verifyInclusion(i, s, claim.leaf, claim.proof, claim.root);
      if (got) accepted++;
      else rejected++;
      assert.equal(got, valid, `index ${i} size ${s} mutation ${kind}`);
      if (i >= 0 && s >= 0) assert.equal(verifyInclusion(BigInt(i), BigInt(s), claim.leaf, claim.proof, claim.root), valid);
    }),
    { numRuns: 3000, seed: 9162 },
  );
  assert.ok(accepted > 100 && rejected > 1000, `corpus mixes valid (${accepted}) and invalid (${rejected}) proofs`);
});

test('consistency verifier accepts exactly the valid proofs', () => {
  let accepted = 0;
  let rejected = 0;
  fc.assert(
    fc.property(treeArb, fc.nat(), fc.nat(), fc.nat(10), fc.nat(), fc.nat(), fc.integer({ min: -3, max: 3 }), (leaves, a, b, kind, at, bit, delta) => {
      const treeSize = leaves.length;
      const size2 = a % (treeSize + 1);
      const size1 = b % (size2 + 1);
      const rootAt = (n: number) => mth(leaves.slice(0, n)) as Uint8Array;
      let claim = { size1, size2, root1: rootAt(size1), root2: rootAt(size2), proof: consistency(size1, leaves.slice(0, size2)) as Hashes };
      if (kind <= 5) claim.proof = mutateHashes(claim.proof, kind, at, bit);
      else if (kind === 6) claim = { ...claim, size1: claim.size1 + delta };
      else if (kind === 7) claim = { ...claim, size2: claim.size2 + delta };
      else if (kind === 8) claim = { ...claim, root1: flipBit(claim.root1, bit) };
      else if (kind === 9) claim = { ...claim, root2: bit % 2 ? flipBit(claim.root2, bit) : claim.root2.subarray(0, 31) };
      // kind 10: unmodified
      const { size1: s1, size2: s2 } = claim;
      const valid = referenceVerifyConsistency(s1, s2, claim.root1, claim.root2, claim.proof);
      if (kind === 10) assert.ok(valid, 'a genuine proof is valid');
      const got = verifyConsistency(s1, s2, claim.root1, claim.root2, claim.proof);
      if (got) accepted++;
      else rejected++;
      assert.equal(got, valid, `sizes ${s1} -> ${s2} mutation ${kind}`);
    }),
    { numRuns: 3000, seed: 6962 },
  );
  assert.ok(accepted > 100 && rejected > 1000, `corpus mixes valid (${accepted}) and invalid (${rejected}) proofs`);
});

test('edge cases: equal sizes, size 0, power-of-two first size, non-integer sizes', () => {
  const leaves = Array.from({ length: 16 }, (_, i) => Buffer.from([i]));
  const root = (n: number) => mth(leaves.slice(0, n));
  assert.equal(verifyConsistency(5, 5, root(5), root(5), []), true);
  assert.equal(verifyConsistency(5, 5, root(5), root(5), [root(5)]), false);
  assert.equal(verifyConsistency(5, 5, root(5), root(6), []), false);
  assert.equal(verifyConsistency(0, 9, root(0), root(9), []), true);
  assert.equal(verifyConsistency(0, 9, root(1), root(9), []), false);
  assert.equal(verifyConsistency(0, 9, root(0), root(9), [root(1)]), false);
  assert.equal(verifyConsistency(0, 0, root(0), root(0), []), true);
  for (const first of [1, 2, 4, 8]) {
    const proof = consistency(first, leaves.slice(0, 13));
    assert.equal(verifyConsistency(first, 13, root(first), root(13), proof), true);
    assert.equal(verifyConsistency(first, 13, root(first), root(13), [root(first), ...proof]), false);
  }
  assert.equal(verifyConsistency(4, 13, root(4), root(13), []), false);
  assert.equal(verifyInclusion(0, 1, leafHashOf(leaves[0]!), [], root(1)), true);
  assert.equal(verifyInclusion(0, 0, leafHashOf(leaves[0]!), [], root(1)), false);
  assert.equal(verifyInclusion(1.5, 4, leafHashOf(leaves[1]!), path(1, leaves.slice(0, 4)), root(4)), false);
  assert.equal(verifyInclusion(-1n, 4n, leafHashOf(leaves[1]!), path(1, leaves.slice(0, 4)), root(4)), false);
  assert.equal(verifyInclusion(1, 4, leafHashOf(leaves[1]!), 'not an array' as unknown as Uint8Array[], root(4)), false);
  const big = 2n ** 64n;
  assert.equal(verifyInclusion(big - 1n, big, leafHashOf(leaves[0]!), path(0, leaves.slice(0, 4)), root(4)), false);
});

test('generated proofs equal the RFC recursion for every index and size up to 40', async () => {
  const leaves = Array.from({ length: 40 }, (_, i) => Buffer.from(`leaf ${i}`));
  const reader = new TreeReader(naiveLookup(leaves));
  for (let size = 1; size <= 40; size++) {
    assert.ok(eq(await reader.root(size), mth(leaves.slice(0, size))));
    for (let i = 0; i < size; i++) assert.ok(sameHashes(await reader.inclusionProof(i, size), path(i, leaves.slice(0, size))), `inclusion ${i}/${size}`);
    for (let m = 0; m <= size; m++) assert.ok(sameHashes(await reader.consistencyProof(m, size), consistency(m, leaves.slice(0, size))), `consistency ${m}/${size}`);
  }
});
