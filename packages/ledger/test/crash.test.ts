/**
 * Crash test: a child process appends as fast as it can and is killed with SIGKILL at a random moment, 10 times in
 * each durability mode (buffered survives a process crash too: the data is in the OS page cache).
 * After each kill the ledger is reopened (a restart): every acknowledged append must be present at the index it
 * was given, and the full offline verify must pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DURABILITIES, generateKey, openLedger, verifyLedgerFile, type Durability } from '@oagf/ledger';
import { ORIGIN, tempDir } from './helpers.js';

const ROUNDS = 10;
const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

/** Runs the writer until a random moment after it is ready, SIGKILLs it, returns the acknowledged appends. */
function runAndKill(path: string, skey: string, round: number, durability: Durability): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', writer, path, skey, String(round), durability], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked = new Map<string, number>();
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') {
          setTimeout(() => child.kill('SIGKILL'), randomInt(5, 400));
          continue;
        }
        const [index, id] = line.split(' ');
        acked.set(id!, Number(index));
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (code ${code}, signal ${signal})`));
      else resolve(acked);
    });
  });
}

for (const durability of DURABILITIES) {
  test(`acknowledged appends survive SIGKILL (${durability}, ${ROUNDS} rounds) and the ledger verifies after every restart`, { timeout: 180_000 }, async (t) => {
    const { skey, vkey } = generateKey(ORIGIN);
    const path = join(tempDir(), `crash-${durability}.db`);
    const everAcked = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const acked = await runAndKill(path, skey, round, durability);
      for (const [id, index] of acked) everAcked.set(id, index);

      const ledger = await openLedger({ path, origin: ORIGIN, signingKey: skey, durability, checkpointEvery: { ms: 0 } });
      assert.ok(ledger.size() >= everAcked.size, `round ${round}: ${ledger.size()} entries but ${everAcked.size} acknowledged`);
      for (const [id, index] of everAcked) {
        assert.equal((await ledger.findById(id))?.index, index, `round ${round}: acknowledged ${id} at ${index}`);
      }
      await ledger.close();
      const report = await verifyLedgerFile(path, { vkeys: [vkey] });
      assert.equal(report.ok, true, `round ${round}: ${report.problem?.message}`);
    }
    t.diagnostic(`${everAcked.size} acknowledged appends over ${ROUNDS} kills`);
    assert.ok(everAcked.size > ROUNDS * 10, `the writer made progress (${everAcked.size} acknowledged appends)`);
  });
}
