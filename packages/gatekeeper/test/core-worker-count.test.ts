/**
 * `serve` starts one worker per core unless the configuration holds state that lives in one process (MCP sessions
 * and stdio servers, the sandbox's concurrency limit): then one process by default, and asking for more is refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateKey } from '@oagf/ledger';
import { workerCount } from '../src/cli/worker-count.js';
import { GatekeeperConfig } from '../src/config/schema.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gk-worker-count-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { policy: { bundle: join(repo, 'policies') }, ledger: { path: join(dir, 'l.db'), signing_key_file: join(dir, 'l.skey') } };
const mcp = { mcp: { servers: { files: { stdio: { command: 'true' } } } } };

test('without single-process parts the count asked for (or the default) is used', () => {
  const config = GatekeeperConfig.parse(base);
  assert.deepEqual(workerCount(config, 4, false), { count: 4 });
  assert.deepEqual(workerCount(config, 3, true), { count: 3 });
});

test('with mcp or sandbox configured the default becomes one process, with a note naming why', () => {
  for (const extra of [mcp, { sandbox: {} }]) {
    const r = workerCount(GatekeeperConfig.parse({ ...base, ...extra }), 2, false);
    assert.equal(r.count, 1);
    assert.match(r.note!, /one process .* because of (mcp|sandbox)/);
  }
});

test('--workers 2 asked for explicitly with mcp is refused by the CLI, naming mcp', () => {
  writeFileSync(join(dir, 'l.skey'), `${generateKey('worker-count.test/ledger').skey}\n`);
  const file = join(dir, 'gatekeeper.yaml');
  writeFileSync(file, JSON.stringify({ ...base, ...mcp, listen: '127.0.0.1:0' }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', 'src/cli.ts', 'serve', '--config', file, '--workers', '2'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--workers 2: this configuration runs in one process because of mcp/);
});
