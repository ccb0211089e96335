/**
 * The verification code the console serves to browsers (src/approvals/console/static/merkle.js), run here on Node's
 * WebCrypto against real ledgers: RFC 9162 inclusion proofs, C2SP checkpoint signatures, verdict signatures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, generateKey, openLedger, parseCheckpoint } from '@oagf/ledger';
// @ts-expect-error plain browser JavaScript, no type declarations
import { verifyEntry, rootFromInclusionProof, leafHash } from '../src/approvals/console/static/merkle.js';

type Check = { label: string; ok: boolean };

async function ledgerWith(n: number) {
  const key = generateKey('test.example/ledger');
  const ledger = await openLedger({ path: ':memory:', origin: 'test.example/ledger', signingKey: key.skey });
  for (let i = 0; i < n; i++) {
    await ledger.append({ v: 1, type: 'decision', id: `r${i}`, time: '2026-01-01T00:00:00.000Z', agent: 'buyer', outcome: 'allow', reasons: [`#${i} ünïcode ✓`] });
  }
  const checkpoint = await ledger.checkpointNow();
  const entryAt = async (index: number) => {
    const record = (await ledger.getRecord(index))!;
    const size = parseCheckpoint(checkpoint).size;
    return {
      index,
      record,
      entry: Buffer.from(canonicalJson(record)).toString('base64'),
      size,
      proof: (await ledger.inclusionProof(index, size)).map((h) => Buffer.from(h).toString('base64')),
      checkpoint,
      keys: [key.vkey],
    };
  };
  return { ledger, key, entryAt };
}

test('every entry of ledgers of many sizes verifies, under many fresh keys', async () => {
  for (const n of [1, 2, 3, 5, 8, 13, 21]) {
    const { ledger, entryAt } = await ledgerWith(n);
    for (let i = 0; i < n; i++) {
      const checks: Check[] = await verifyEntry(await entryAt(i));
      assert.ok(checks.every((c) => c.ok), `size ${n} index ${i}: ${JSON.stringify(checks)}`);
    }
    await ledger.close();
  }
});

test('a changed record, a wrong proof, a foreign checkpoint key and a forged root are each caught', async () => {
  const { ledger, entryAt } = await ledgerWith(7);
  const failed = async (e: unknown) => ((await verifyEntry(e)) as Check[]).filter((c) => !c.ok).map((c) => c.label);

  const e = await entryAt(3);
  const tampered = { ...e, record: { ...e.record, reasons: ['#3 nothing to see'] } };
  assert.deepEqual(await failed(tampered), ['Entry bytes are the canonical JSON of the record']);

  const otherBytes = { ...e, entry: Buffer.from(canonicalJson(tampered.record)).toString('base64'), record: tampered.record };
  assert.match((await failed(otherBytes)).join(), /Inclusion proof/);

  const shortProof = { ...e, proof: e.proof.slice(1) };
  assert.match((await failed(shortProof)).join(), /Inclusion proof/);

  const stranger = generateKey('test.example/ledger');
  assert.deepEqual(await failed({ ...e, keys: [stranger.vkey] }), ['Checkpoint signature verified (Ed25519)']);

  const lines = e.checkpoint.split('\n');
  lines[2] = Buffer.alloc(32, 7).toString('base64');
  assert.ok((await failed({ ...e, checkpoint: lines.join('\n') })).length >= 2, 'a forged root breaks both the proof and the signature');
  await ledger.close();
});

test('payloads are checked against the digests the entry commits to', async () => {
  const key = generateKey('test.example/ledger');
  const ledger = await openLedger({ path: ':memory:', origin: 'test.example/ledger', signingKey: key.skey });
  const trace = JSON.stringify({ steps: [{ content: 'reasoning' }] });
  await ledger.append({ v: 1, type: 'decision', id: 'r0', time: '2026-01-01T00:00:00.000Z', outcome: 'escalate' }, { trace });
  const checkpoint = await ledger.checkpointNow();
  const record = (await ledger.getRecord(0))!;
  const e = { index: 0, record, entry: Buffer.from(canonicalJson(record)).toString('base64'), size: 1, proof: [], checkpoint, keys: [key.vkey] };
  const label = 'Payload "trace" matches the digest committed in the entry';
  const result = async (bytes: Uint8Array | null) =>
    ((await verifyEntry({ ...e, payloads: { trace: { bytes } } })) as Check[]).find((c) => c.label === label)!.ok;
  assert.equal(await result(new TextEncoder().encode(trace)), true);
  assert.equal(await result(new TextEncoder().encode(trace.replace('reasoning', 'reasonin9'))), false);
  assert.equal(await result(null), false);
  await ledger.close();
});

test('the proof walk rejects an index outside the tree and a proof of the wrong length', async () => {
  const leaf = await leafHash(new Uint8Array([1, 2, 3]));
  assert.equal(await rootFromInclusionProof(5, 5, leaf, []), null);
  assert.equal(await rootFromInclusionProof(0, 1, leaf, [leaf]), null);
  assert.deepEqual(await rootFromInclusionProof(0, 1, leaf, []), leaf);
});
