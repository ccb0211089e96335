import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EMPTY_ROOT, hashChildren, hashLeaf, verifyConsistency, verifyInclusion, verifyNote, TreeReader } from '@oagf/ledger';
import { CompactRange } from '../src/merkle.js';
import { naiveLookup } from './reference-tree.js';

const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/tlog.json', import.meta.url), 'utf8'));
const hex = (h: string) => Buffer.from(h, 'hex');
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves: Buffer[] = vectors.tree.leaves_hex.map(hex);
const reader = new TreeReader(naiveLookup(leaves));
const rootOf = (size: number) => hex(vectors.tree.roots_by_size[String(size)]);

test('empty tree root', async () => {
  assert.equal(toHex(EMPTY_ROOT), vectors.hashing.empty_tree_root);
  assert.equal(toHex(await reader.root(0)), vectors.hashing.empty_tree_root);
});

for (const v of vectors.hashing.leaf) {
  test(`leaf hash of ${JSON.stringify(v.data_utf8)}`, () => assert.equal(toHex(hashLeaf(utf8(v.data_utf8))), v.hash));
}

for (const v of vectors.hashing.node) {
  test(`node hash of ${v.left_utf8} / ${v.right_utf8}`, () => assert.equal(toHex(hashChildren(utf8(v.left_utf8), utf8(v.right_utf8))), v.hash));
}

for (const [size, root] of Object.entries(vectors.tree.roots_by_size) as [string, string][]) {
  test(`root of the first ${size} leaves, from stored subtrees and from appends`, async () => {
    assert.equal(toHex(await reader.root(Number(size))), root);
    const range = CompactRange.empty();
    leaves.slice(0, Number(size)).forEach((leaf) => range.append(hashLeaf(leaf)));
    assert.equal(toHex(range.root()), root);
  });
}

for (const v of vectors.tree.inclusion) {
  test(`inclusion of leaf ${v.index} in size ${v.size}: generated and verified`, async () => {
    const proof = v.proof.map(hex);
    assert.deepEqual((await reader.inclusionProof(v.index, v.size)).map(toHex), v.proof);
    assert.equal(verifyInclusion(v.index, v.size, hashLeaf(leaves[v.index]!), proof, rootOf(v.size)), true);
    assert.equal(verifyInclusion(BigInt(v.index), BigInt(v.size), hashLeaf(leaves[v.index]!), proof, rootOf(v.size)), true);
    assert.equal(verifyInclusion(v.index, v.size, hashLeaf(leaves[v.index - 1]!), proof, rootOf(v.size)), false);
  });
}

for (const v of vectors.tree.consistency) {
  test(`consistency ${v.size1} -> ${v.size2}: generated and verified`, async () => {
    const proof: Buffer[] = v.proof ? v.proof.map(hex) : v.proof_base64.map((b: string) => Buffer.from(b, 'base64'));
    assert.deepEqual((await reader.consistencyProof(v.size1, v.size2)).map(toHex), proof.map(toHex));
    assert.equal(verifyConsistency(v.size1, v.size2, rootOf(v.size1), rootOf(v.size2), proof), true);
    assert.equal(verifyConsistency(BigInt(v.size1), BigInt(v.size2), rootOf(v.size1), rootOf(v.size2), proof), true);
    assert.equal(verifyConsistency(v.size1, v.size2, rootOf(v.size2), rootOf(v.size1), proof), false);
  });
}

test('signed note example verifies with its key', () => {
  const v = vectors.signed_note;
  assert.equal(v.verifies, true);
  assert.deepEqual(verifyNote(v.note, [v.vkey]), ['example.com/foo']);
  assert.throws(() => verifyNote(v.note.replace('example message', 'exemplary message'), [v.vkey]), /does not verify/);
});
