/**
 * Outside verifiability: a real `gatekeeper witness serve` process cosigns the gatekeeper's checkpoints
 * (`ledger.witnesses`), /ledger/checkpoint serves them cosigned, and a second ledger under the same key and origin
 * (a split view, as an operator rewriting the log could show) is refused — also by the witness restarted from its
 * state file.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { generateKey, parseCheckpoint, verifyNote } from '@oagf/ledger';
import { KEYS, post, startGatekeeper, type Fixture } from './core/fixture.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gk-witness-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ORIGIN = 'test.local/ledger';
const logKey = generateKey(ORIGIN);
writeFileSync(join(dir, 'ledger.skey'), logKey.skey);
writeFileSync(join(dir, 'ledger.vkey'), `${logKey.vkey}\n`);
const WITNESS = 'witness.test.example/w1';

interface WitnessProcess {
  child: ChildProcess;
  url: string;
  vkey: string;
  output: string;
}

/** `gatekeeper witness serve` on a free port; resolves once it prints where it listens. */
function startWitness(): Promise<WitnessProcess> {
  const args = ['witness', 'serve', '--key-file', join(dir, 'witness.skey'), '--generate-key', WITNESS, '--log', join(dir, 'ledger.vkey'), '--state', join(dir, 'witness-state.json'), '--listen', '127.0.0.1:0'];
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', 'src/cli.ts', ...args], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`witness did not start:\n${output}`)), 20_000);
    const onData = (data: Buffer) => {
      output += data;
      const url = /listening on (\S+)\/add-checkpoint/.exec(output)?.[1];
      const vkey = /^ {2}vkey (\S+)$/m.exec(output)?.[1];
      if (url && vkey) {
        clearTimeout(timer);
        resolve({ child, url, vkey, output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`witness exited with ${code}:\n${output}`)));
  });
}

async function stopWitness(w: WitnessProcess, signal: NodeJS.Signals): Promise<void> {
  if (w.child.exitCode !== null) return;
  const exited = new Promise((resolve) => w.child.once('exit', resolve));
  w.child.kill(signal);
  await exited;
}

function gatekeeperOn(ledgerFile: string, witness: WitnessProcess): Promise<Fixture> {
  return startGatekeeper({
    config: {
      admin: { public_ledger: true },
      ledger: { path: ledgerFile, signing_key_file: join(dir, 'ledger.skey'), origin: ORIGIN, checkpoint_every: { ms: 50 }, witnesses: [{ url: witness.url, vkey: witness.vkey }] },
    },
  });
}

const decide = async (url: string, n: number) => assert.equal((await post(`${url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'check_inventory' }, arguments: { n } } }, KEYS.buyer)).status, 200);

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function cosignedBy(note: string, witness: WitnessProcess): boolean {
  try {
    return verifyNote(note, [witness.vkey]).includes(WITNESS);
  } catch {
    return false; // verifyNote throws when no trusted key signed
  }
}

/** /ledger/checkpoint once it carries the witness's cosignature on a tree of `size`. */
function cosignedCheckpoint(url: string, witness: WitnessProcess, size: number): Promise<string> {
  return until(`a cosigned checkpoint of size ${size}`, async () => {
    const res = await fetch(`${url}/ledger/checkpoint`);
    const note = await res.text();
    // Before the first checkpoint is published there is no note to read yet: keep waiting.
    if (!res.ok || !note.includes('\n\n')) return undefined;
    if (parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1)).size !== size) return undefined;
    return cosignedBy(note, witness) ? note : undefined;
  });
}

async function refusals(gk: Fixture): Promise<number> {
  const metric = await gk.gk.deps.metrics.registry.getSingleMetric('gatekeeper_witness_failures_total')?.get();
  return metric?.values.find((v) => v.labels['reason'] === 'refused')?.value ?? 0;
}

test('a witness process cosigns the gatekeeper checkpoints and refuses a split view, also after a restart', async () => {
  let witness = await startWitness();
  assert.match(witness.output, /generated witness key .*witness\.skey/);
  assert.equal(statSync(join(dir, 'witness.skey')).mode & 0o777, 0o600);
  const real = await gatekeeperOn(join(dir, 'real.db'), witness);
  let fork: Fixture | undefined;
  try {
    for (let i = 0; i < 3; i++) await decide(real.url, i);
    const first = await cosignedCheckpoint(real.url, witness, 3);
    assert.deepEqual(verifyNote(first, [logKey.vkey, witness.vkey]).sort(), [ORIGIN, WITNESS].sort(), 'signed by the log, cosigned by the witness');
    for (let i = 3; i < 7; i++) await decide(real.url, i);
    await cosignedCheckpoint(real.url, witness, 7);
    assert.equal(JSON.parse(readFileSync(join(dir, 'witness-state.json'), 'utf8')).logs[ORIGIN].size, 7, 'the witness persisted what it cosigned');

    // Same key and origin, other entries: a tree of size 9 that does not extend the size-7 one the witness holds.
    fork = await gatekeeperOn(join(dir, 'fork.db'), witness);
    for (let i = 100; i < 109; i++) await decide(fork.url, i);
    await until('the witness to refuse the forked checkpoint', async () => ((await refusals(fork!)) > 0 ? true : undefined));
    const forked = await (await fetch(`${fork.url}/ledger/checkpoint`)).text();
    assert.equal(parseCheckpoint(forked.slice(0, forked.indexOf('\n\n') + 1)).size, 9);
    assert.deepEqual(verifyNote(forked, [logKey.vkey, witness.vkey]), [ORIGIN], 'the forked checkpoint carries no cosignature');
    assert.equal(JSON.parse(readFileSync(join(dir, 'witness-state.json'), 'utf8')).logs[ORIGIN].size, 7);

    // Killed and restarted from its state and key files (the key is kept, not generated again): the real ledger goes
    // on being cosigned, the fork is still refused.
    await stopWitness(witness, 'SIGKILL');
    const vkey = witness.vkey;
    witness = await startWitness();
    assert.equal(witness.vkey, vkey);
    assert.doesNotMatch(witness.output, /generated witness key/);
    await real.close();
    await fork.close();
    fork = undefined;
    const again = await gatekeeperOn(join(dir, 'real.db'), witness);
    try {
      for (let i = 7; i < 12; i++) await decide(again.url, i);
      await cosignedCheckpoint(again.url, witness, 12);
    } finally {
      await again.close();
    }
    const reforked = await gatekeeperOn(join(dir, 'fork.db'), witness);
    try {
      await decide(reforked.url, 200);
      await until('the restarted witness to refuse the fork', async () => ((await refusals(reforked)) > 0 ? true : undefined));
    } finally {
      await reforked.close();
    }
  } finally {
    await fork?.close();
    if (existsSync(join(real.dir))) await real.close();
    await stopWitness(witness, 'SIGTERM');
  }
});

test('ledger.witnesses names a bad witness key', async () => {
  await assert.rejects(
    startGatekeeper({ config: { ledger: { path: './ledger.db', signing_key_file: './ledger.skey', witnesses: [{ url: 'http://127.0.0.1:1', vkey: logKey.vkey }] } } }),
    /ledger\.witnesses\.0\.vkey: not a witness \(cosigner, type 0x04\) verifier key/,
  );
});
