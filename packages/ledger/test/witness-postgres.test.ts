/**
 * Witnessing a shared PostgreSQL ledger: every replica submits the checkpoints it sees to the same witness, often
 * behind the replica that integrated them. The witness ends up holding the whole tree, every replica serves a
 * cosigned checkpoint of it, and none of them reports a refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCosignerKey, generateKey, openLedger, parseCheckpoint, postgresDriver, serveWitness, verifyNote, witnessCheckpoints, type Ledger } from '@oagf/ledger';
import { ORIGIN, decision, tempDir } from './helpers.js';
import { PG_URL, freshSchema, postgresUnavailable } from './pg-helpers.js';

const skip = await postgresUnavailable();
const logKey = generateKey(ORIGIN);
const witnessKey = generateCosignerKey('witness.test.example/pg');

test('three replicas of one PostgreSQL ledger keep one witness in step without false refusals', { skip, timeout: 120_000 }, async () => {
  const schema = freshSchema();
  const { server, url, witness } = await serveWitness({ signingKey: witnessKey.skey, logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], statePath: join(tempDir(), 'state.json') });
  const replicas: Ledger[] = [];
  for (let i = 0; i < 3; i++) {
    replicas.push(await openLedger({ driver: postgresDriver({ url: PG_URL, schema, integrateEveryMs: 10 }), origin: ORIGIN, signingKey: logKey.skey, checkpointEvery: { entries: 40, ms: 30 } }));
  }
  const errors: string[] = [];
  const witnessed = replicas.map((ledger, i) => witnessCheckpoints(ledger, { witnesses: [{ url, vkey: witnessKey.vkey }], everyMs: 15, onError: (name, e) => errors.push(`replica ${i}, ${name}: ${e.message}`) }));
  try {
    const TOTAL = 600;
    for (let burst = 0; burst < TOTAL / 60; burst++) {
      await Promise.all(Array.from({ length: 60 }, (_, k) => replicas[k % 3]!.append(decision(burst * 60 + k))));
      await new Promise((r) => setTimeout(r, 20));
    }
    await replicas[1]!.checkpointNow();
    const deadline = Date.now() + 30_000;
    while (witnessed.some((w) => parseCheckpoint(w.cosigned() ?? `${ORIGIN}\n0\n${'A'.repeat(43)}=\n`).size !== TOTAL)) {
      assert.ok(Date.now() < deadline, `not every replica has a cosigned checkpoint of ${TOTAL}: ${witnessed.map((w) => w.cosigned()?.split('\n')[1]).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(errors, []);
    assert.equal(parseCheckpoint(witness.latest(ORIGIN)!.split('\n\n')[0]! + '\n').size, TOTAL);
    for (const w of witnessed) assert.deepEqual(verifyNote(w.cosigned()!, [logKey.vkey, witnessKey.vkey]).sort(), [ORIGIN, 'witness.test.example/pg'].sort());
  } finally {
    for (const w of witnessed) w.close();
    server.close();
    for (const ledger of replicas) await ledger.close();
  }
});
