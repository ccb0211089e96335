/**
 * Every bench a README shows runs, as shown plus `--quick` (sizes that finish in seconds), and ends with its JSON
 * figures line. Nothing is asserted about the figures: a quick run on a shared machine measures nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The README commands (docs.test.ts checks each bench command a README shows is listed here). */
export const BENCH_COMMANDS = [
  'npm run bench:ledger',
  'npm run bench:ledger -- --store postgres',
  'npm run bench:ledger -- --store write-path',
  'npm run bench:sandbox',
  'npm run bench:gateway',
  'npm run bench:gateway:cpu',
];

for (const command of BENCH_COMMANDS) {
  test(`${command} --quick`, () => {
    const quick = command.includes(' -- ') ? `${command} --quick` : `${command} -- --quick`;
    const r = spawnSync('bash', ['-c', quick], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `${quick} exited ${r.status ?? r.signal}:\n${(r.stdout + r.stderr).slice(-3000)}`);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const figures = JSON.parse(last) as Record<string, unknown>;
    assert.ok(Object.values(figures).some((v) => typeof v === 'number'), `the last line carries figures: ${last}`);
  });
}
