/**
 * The contract every ledger storage driver must pass (SQLite in store-sqlite.test.ts, PostgreSQL in
 * store-postgres.test.ts): durable sequencing with consecutive indexes, integration into the RFC 9162 tree,
 * signed checkpoints, duplicate ids refused with nothing written, payloads, and binding to one log.
 */
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import {
  DuplicateIdsError, canonicalJson, generateKey, hashLeaf, parseCheckpoint, verifyNote, verifierKeyOf,
  type LedgerDriver, type LedgerStore, type LogConfig,
} from '@oagf/ledger';
import { nodeHome } from '../src/merkle.js';
import { ORIGIN, decision } from './helpers.js';
import { mth } from './reference-tree.js';

/** Makes a fresh, empty storage location each time it is called; `reopen` opens the same location again. */
export interface DriverFixture {
  driver: LedgerDriver;
  reopen(): LedgerDriver;
}

const key = generateKey(ORIGIN);

export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { origin: ORIGIN, signingKey: key.skey, vkey: key.vkey, checkpointEvery: { entries: 1_000_000, ms: 0 }, ...overrides };
}

function entryOf(n: number, id = `dec-${n}`) {
  const entry = Buffer.from(canonicalJson(decision(n, { id })));
  return { id, entry, leafHash: hashLeaf(entry) };
}

function batch(from: number, count: number) {
  return { entries: Array.from({ length: count }, (_, i) => entryOf(from + i)), payloads: [], checkpoint: false };
}

async function withStore<T>(driver: LedgerDriver, use: (store: LedgerStore) => Promise<T>, log = logConfig()): Promise<T> {
  const store = await driver.open(log);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** `skip`: why the suite cannot run here (e.g. no database server), or undefined. */
export function storeContract(name: string, fresh: () => Promise<DriverFixture>, skip?: string): void {
  const test = (title: string, fn: () => Promise<void>) => nodeTest(title, skip ? { skip } : {}, fn);
  test(`${name}: batches get consecutive indexes, read back, and integrate into the RFC 9162 tree`, async () => {
    const { driver } = await fresh();
    await withStore(driver, async (store) => {
      assert.equal(store.head().size, 0);
      const firsts = [];
      for (const [from, count] of [[0, 1], [1, 6], [7, 30], [37, 8]] as const) firsts.push((await store.sequence(batch(from, count))).first);
      assert.deepEqual(firsts, [0, 1, 7, 37]);
      const signed = await store.checkpoint();
      assert.equal(signed.size, 45);
      assert.deepEqual(store.head(), { size: 45, checkpoint: signed });
      assert.deepEqual(verifyNote(signed.note, [key.vkey]), [ORIGIN]);
      const entries = Array.from({ length: 45 }, (_, n) => entryOf(n).entry);
      assert.ok(Buffer.from(parseCheckpoint(signed.note).root).equals(mth(entries)));

      assert.ok(Buffer.from((await store.entry(12))!).equals(entries[12]!));
      assert.equal(await store.entry(45), undefined);
      assert.equal(await store.indexOfId('dec-33'), 33);
      assert.equal(await store.indexOfId('nope'), undefined);
      const range = await store.entryRange(40, 10);
      assert.equal(range.length, 5);
      assert.ok(Buffer.from(range[4]!).equals(entries[44]!));

      const refs = [{ level: 0, index: 3 }, { level: 1, index: 5 }, { level: 3, index: 2 }, { level: 5, index: 0 }, { level: 6, index: 0 }];
      const hashes = await store.hashes(refs);
      refs.slice(0, 4).forEach((r, i) => {
        const width = 2 ** r.level;
        assert.ok(Buffer.from(hashes[i]!).equals(mth(entries.slice(r.index * width, (r.index + 1) * width))), `hash ${r.level}/${r.index}`);
      });
      assert.equal(hashes[4], undefined, 'a subtree the tree does not have yet');

      const listed = [];
      for await (const e of store.entries(45)) listed.push(e);
      assert.deepEqual(listed.map((e) => e.index), [...Array(45).keys()]);
      assert.equal(listed[9]!.id, 'dec-9');
      assert.ok(Buffer.from(listed[9]!.entry).equals(entries[9]!));
      assert.ok(Buffer.from(listed[9]!.leafHash).equals(hashLeaf(entries[9]!)));
      // Entry 15 completes the subtrees of 2, 4, 8 and 16 leaves ending at it; entry 14 completes none.
      assert.equal(listed[15]!.nodes.length, 4 * 32);
      assert.equal(listed[14]!.nodes.length, 0);
      const { offset } = nodeHome(4, 0);
      assert.ok(Buffer.from(listed[15]!.nodes.subarray(offset, offset + 32)).equals(mth(entries.slice(0, 16))));
    });
  });

  test(`${name}: a batch holding a stored id writes nothing and names the stored ids`, async () => {
    const { driver } = await fresh();
    await withStore(driver, async (store) => {
      await store.sequence(batch(0, 3));
      const mixed = { entries: [entryOf(3), entryOf(1), entryOf(4), entryOf(2)], payloads: [{ digest: `sha256:${'1'.repeat(64)}`, data: Buffer.from('x') }], checkpoint: false };
      const error = await store.sequence(mixed).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof DuplicateIdsError, String(error));
      assert.deepEqual([...error.ids].sort(), ['dec-1', 'dec-2']);
      assert.equal(await store.indexOfId('dec-3'), undefined, 'nothing of the failed batch was written');
      assert.equal(await store.payload(`sha256:${'1'.repeat(64)}`), undefined);
      assert.equal((await store.sequence({ ...batch(3, 2) })).first, 3, 'no gap after the failed batch');
      assert.equal((await store.checkpoint()).size, 5);
    });
  });

  test(`${name}: payloads are stored once per digest, deleted under retention, and listed`, async () => {
    const { driver } = await fresh();
    await withStore(driver, async (store) => {
      const a = { digest: `sha256:${'a'.repeat(64)}`, data: Buffer.from('payload a') };
      const b = { digest: `sha256:${'b'.repeat(64)}`, data: Buffer.from([0, 1, 2, 255]) };
      await store.sequence({ entries: [entryOf(0)], payloads: [a, b], checkpoint: false });
      await store.sequence({ entries: [entryOf(1)], payloads: [a], checkpoint: false });
      assert.ok(Buffer.from((await store.payload(b.digest))!).equals(b.data));
      const listed = [];
      for await (const p of store.payloads()) listed.push(p.digest);
      assert.deepEqual(listed.sort(), [a.digest, b.digest]);
      assert.equal(await store.deletePayload(a.digest), true);
      assert.equal(await store.deletePayload(a.digest), false);
      assert.equal(await store.payload(a.digest), undefined);
    });
  });

  test(`${name}: checkpoints every N entries unasked, on request in order, and a last one on close`, async () => {
    const { driver, reopen } = await fresh();
    await withStore(
      driver,
      async (store) => {
        for (let from = 0; from < 25; from += 5) await store.sequence(batch(from, 5));
        // Unasked: once 10 entries are not covered a checkpoint is due. A store that integrates apart from sequencing
        // (PostgreSQL) may sign at a larger size than exactly 10 and 20, and a little later.
        for (let waited = 0; (store.head().checkpoint?.size ?? 0) < 20 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
        assert.ok((store.head().checkpoint?.size ?? 0) >= 20, `unasked checkpoint: ${JSON.stringify(store.head())}`);
        const requested = await store.checkpoint();
        assert.equal(requested.size, 25, 'a requested checkpoint covers everything sequenced');
        assert.equal((await store.checkpoint()).note, requested.note, 'nothing new: the same checkpoint');
        const sizes = (await store.checkpoints()).map((c) => c.size);
        assert.ok(sizes[0]! >= 10, `not before 10 entries: ${sizes}`);
        assert.deepEqual(sizes, [...new Set(sizes)].sort((x, y) => x - y), 'in order, each size once');
        await store.sequence(batch(25, 3));
      },
      logConfig({ checkpointEvery: { entries: 10, ms: 0 } }),
    );
    await withStore(reopen(), async (store) => {
      assert.equal(store.head().size, 28, 'close integrated and checkpointed the last batch');
      assert.equal(store.head().checkpoint?.size, 28);
      for (const c of await store.checkpoints()) assert.deepEqual(verifyNote(c.note, [key.vkey]), [ORIGIN]);
      assert.equal((await store.sequence(batch(28, 1))).first, 28, 'reopened, the log continues');
    });
  });

  test(`${name}: a store belongs to one origin and remembers every key that signed`, async () => {
    const { driver, reopen } = await fresh();
    await withStore(driver, async (store) => void (await store.sequence(batch(0, 2))));
    await assert.rejects(reopen().open(logConfig({ origin: 'other.example/log' })), /belongs to origin test\.gatekeeper\.example\/ledger, not other\.example\/log/);
    const rotated = generateKey(ORIGIN);
    await withStore(reopen(), async (store) => {
      assert.equal((await store.checkpoint()).size, 2);
      assert.deepEqual(JSON.parse((await store.getMeta('vkeys'))!), [key.vkey, rotated.vkey]);
      assert.equal(await store.getMeta('origin'), ORIGIN);
    }, logConfig({ signingKey: rotated.skey, vkey: verifierKeyOf(rotated.skey) }));
  });
}
