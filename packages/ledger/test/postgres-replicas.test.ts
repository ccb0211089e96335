/**
 * Several ledger processes on one PostgreSQL schema, as gatekeeper replicas run: they sequence concurrently, one
 * integrates at a time, and when the integrator is SIGKILLed another takes over. Afterwards the log holds every
 * acknowledged append, exported to SQLite it verifies, and every checkpoint seen on the way is a prefix of the
 * final one (checked with consistency proofs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SqliteStore, TreeReader, exportPostgresLedger, generateKey, openLedger, parseCheckpoint, postgresDriver, verifyConsistency,
  verifyLedgerFile, verifyNote,
} from '@oagf/ledger';
import { storeLookup } from '../src/store.js';
import { ORIGIN, tempDir } from './helpers.js';
import { PG_URL, freshSchema, pgQuery, postgresUnavailable } from './pg-helpers.js';

const skip = await postgresUnavailable();
const script = fileURLToPath(new URL('./fixtures/pg-replica.ts', import.meta.url));
const dir = tempDir();
const key = generateKey(ORIGIN);

class Replica {
  readonly child: ChildProcess;
  readonly acks = new Map<string, number>();
  integrating = false;
  checkpoint: string | undefined;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private listeners: ((line: string) => void)[] = [];

  constructor(readonly name: string, schema: string, count?: number) {
    this.child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', script, PG_URL, schema, key.skey, name, ...(count === undefined ? [] : [String(count)])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      this.on((line) => line === 'ready' && resolve());
      void this.exited.then(({ code, signal }) => reject(new Error(`replica ${name} exited before it was ready (code ${code}, signal ${signal})`)));
    });
    this.ready.catch(() => undefined);
    let buffered = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      const lines = (buffered + chunk).split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, a, b] = line.split(' ');
        if (word === 'ack') this.acks.set(b!, Number(a));
        else if (word === 'integrator') this.integrating = a === '1';
        else if (word === 'checkpoint') this.checkpoint = Buffer.from(a!, 'base64').toString();
        this.listeners.forEach((l) => l(line));
      }
    });
  }

  on(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }
}

function waitFor<T>(what: string, ms: number, poll: () => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const value = poll();
      if (value !== undefined) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }
    }, 5);
  });
}

/** Exports the schema, verifies the file and returns a reader for proofs over it. */
async function exportAndVerify(schema: string, name: string) {
  const file = join(dir, `${name}.db`);
  const exported = await exportPostgresLedger({ url: PG_URL, schema }, file);
  const report = await verifyLedgerFile(file, { vkeys: [key.vkey] });
  assert.equal(report.ok, true, JSON.stringify(report.problem));
  assert.equal(report.entries, exported.entries);
  return { file, exported, report };
}

async function assertPrefixesOf(file: string, notes: Iterable<string>): Promise<number> {
  const store = new SqliteStore(file, { readonly: true });
  try {
    const final = parseCheckpoint(store.head().checkpoint!.note);
    const reader = new TreeReader(storeLookup(store));
    let checked = 0;
    for (const note of notes) {
      assert.deepEqual(verifyNote(note, [key.vkey]), [ORIGIN]);
      const earlier = parseCheckpoint(note);
      assert.ok(earlier.size <= final.size, `checkpoint ${earlier.size} is beyond the final ${final.size}`);
      const proof = await reader.consistencyProof(earlier.size, final.size);
      assert.ok(verifyConsistency(earlier.size, final.size, earlier.root, final.root, proof), `checkpoint of size ${earlier.size} is a prefix of the final one`);
      checked++;
    }
    return checked;
  } finally {
    await store.close();
  }
}

async function acknowledgedAtTheirIndexes(file: string, acks: Map<string, number>): Promise<void> {
  const store = new SqliteStore(file, { readonly: true });
  try {
    for (const [id, index] of acks) assert.equal(await store.indexOfId(id), index, `acknowledged ${id} at ${index}`);
  } finally {
    await store.close();
  }
}

test('three replica processes append 600 entries to one PostgreSQL ledger that verifies, with consistent checkpoints', { skip, timeout: 120_000 }, async () => {
  const schema = freshSchema('ledger_replicas');
  const replicas = ['a', 'b', 'c'].map((name) => new Replica(name, schema, 200));
  const exits = await Promise.all(replicas.map((r) => r.exited));
  assert.deepEqual(exits, replicas.map(() => ({ code: 0, signal: null })));

  const { file, report } = await exportAndVerify(schema, 'three');
  assert.equal(report.entries, 600);
  const ids = (await pgQuery<{ id: string }>(`SELECT id FROM "${schema}".entries ORDER BY idx`)).map((r) => r.id);
  const expected = replicas.flatMap((r) => Array.from({ length: 200 }, (_, i) => `${r.name}-${i}`));
  assert.deepEqual([...ids].sort(), expected.sort(), 'exactly the appended entries, each once');
  const acks = new Map(replicas.flatMap((r) => [...r.acks]));
  assert.equal(acks.size, 600);
  await acknowledgedAtTheirIndexes(file, acks);
  assert.deepEqual(replicas.map((r) => parseCheckpoint(r.checkpoint!).size >= Math.max(...r.acks.values()) + 1), [true, true, true], 'each replica got a checkpoint covering its appends');
  const stored = (await pgQuery<{ note: string }>(`SELECT note FROM "${schema}".checkpoints ORDER BY seq`)).map((r) => r.note);
  assert.ok((await assertPrefixesOf(file, [...stored, ...replicas.map((r) => r.checkpoint!)])) >= 4);
});

test('SIGKILL of the integrating replica mid-burst, 10 times: another takes over, nothing acknowledged is lost', { skip, timeout: 180_000 }, async (t) => {
  const ROUNDS = 10;
  const schema = freshSchema('ledger_failover');
  let spawned = 0;
  const live: Replica[] = [];
  const everAcked = new Map<string, number>();
  const start = () => {
    const r = new Replica(`r${spawned++}`, schema);
    live.push(r);
    return r;
  };
  for (let i = 0; i < 3; i++) start();
  await Promise.all(live.map((r) => r.ready));

  // Every checkpoint published on the way, read as an outside observer would.
  const seen = new Map<number, string>();
  let observing = true;
  const observer = (async () => {
    while (observing) {
      const after = Math.max(0, ...seen.keys());
      for (const row of await pgQuery<{ seq: string; note: string }>(`SELECT seq, note FROM "${schema}".checkpoints WHERE seq > $1 ORDER BY seq`, [after])) seen.set(Number(row.seq), row.note);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const takeovers: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const integrator = await waitFor(`an integrator (round ${round})`, 20_000, () => live.find((r) => r.integrating));
      const before = integrator.acks.size;
      // Mid-burst: wait until it has acknowledged more appends, then a random moment more.
      await waitFor(`appends by ${integrator.name}`, 20_000, () => (integrator.acks.size > before + 20 ? true : undefined));
      await new Promise((r) => setTimeout(r, randomInt(0, 300)));
      integrator.child.kill('SIGKILL');
      const killedAt = performance.now();
      live.splice(live.indexOf(integrator), 1);
      await integrator.exited;
      for (const [id, index] of integrator.acks) everAcked.set(id, index);
      await waitFor(`a takeover after killing ${integrator.name}`, 20_000, () => live.find((r) => r.integrating));
      takeovers.push(performance.now() - killedAt);
      await start().ready;
    }
  } finally {
    for (const r of live) r.child.kill('SIGTERM');
    const exits = await Promise.all(live.map((r) => r.exited));
    observing = false;
    await observer;
    assert.deepEqual(exits.map((e) => e.code), live.map(() => 0), 'the survivors closed cleanly');
  }
  for (const r of live) for (const [id, index] of r.acks) everAcked.set(id, index);

  // A last checkpoint over everything, as a restarted replica would publish it.
  const ledger = await openLedger({ driver: postgresDriver({ url: PG_URL, schema }), origin: ORIGIN, signingKey: key.skey });
  const final = await ledger.checkpointNow();
  await ledger.close();
  const { file, report } = await exportAndVerify(schema, 'failover');
  assert.equal(report.entries, parseCheckpoint(final).size);
  await acknowledgedAtTheirIndexes(file, everAcked);
  const checked = await assertPrefixesOf(file, seen.values());
  const sorted = [...takeovers].sort((a, b) => a - b);
  t.diagnostic(`${everAcked.size} acknowledged appends, ${report.entries} entries, ${checked} checkpoints checked as prefixes; takeover after SIGKILL: median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms over ${ROUNDS} kills`);
  assert.equal(takeovers.length, ROUNDS);
  assert.ok(everAcked.size > ROUNDS * 20);
});
