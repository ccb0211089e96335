/** The `gatekeeper` CLI as a user runs it: exit codes and messages. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { generateKey } from '@oagf/ledger';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const gatekeeper = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', 'src/cli.ts', ...args], { cwd: pkg, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('policy test on the keynote configuration passes', () => {
  const r = gatekeeper('policy', 'test', '--config', '../../examples/keynote/gatekeeper.yaml');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^(\d+)\/\1 passed$/m);
});

test('policy check names the file and line of a compile error and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gk-cli-'));
  writeFileSync(join(dir, 'p.rego'), 'package oagf\n\ndecision := {"outcome": \n');
  const r = gatekeeper('policy', 'check', dir);
  assert.equal(r.code, 1);
  assert.match(r.err, /^gatekeeper: policy bundle .* does not compile:\n\s+gk-cli-\w+\/p\.rego:\d+/m);
  assert.doesNotMatch(r.err, /at .*\.ts:\d+/, 'no stack trace for an expected failure');
});

test('serve with an invalid configuration prints every problem with line:col and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gk-cli-'));
  const file = join(dir, 'gatekeeper.yaml');
  writeFileSync(file, 'listen: 127.0.0.1:8787\nagents:\n  - id: x\n    api_keys: [plain]\npolicy: { bundle: ./p }\n');
  const r = gatekeeper('serve', '--config', file, '--check');
  assert.equal(r.code, 1);
  assert.match(r.err, /gatekeeper\.yaml:4:16 agents\.0\.api_keys\.0: API keys are stored only as/);
  assert.match(r.err, /gatekeeper\.yaml:\d+:\d+ ledger: required setting is missing/);
});

test('hash-key prints the form gatekeeper.yaml stores', () => {
  const r = gatekeeper('hash-key', 'abc');
  assert.equal(r.out.trim(), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('--version on the gatekeeper command', () => {
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  const r = gatekeeper('--version');
  assert.equal(r.code, 0);
  assert.equal(r.out.trim(), version);
});

test('serve on a port that is taken exits non-zero at once, naming the address', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'gk-cli-'));
    const config = join(dir, 'gatekeeper.yaml');
    writeFileSync(config, `policy: { bundle: ${JSON.stringify(join(pkg, '../../policies'))} }\nledger: { path: ./ledger.db, signing_key_file: ./ledger.skey }\n`);
    writeFileSync(join(dir, 'ledger.skey'), generateKey('test.local/ledger').skey);
    const started = Date.now();
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const argv = ['--import', 'tsx', '--conditions=development', 'src/cli.ts', 'serve', '--config', config, '--port', String(port)];
      const child = spawn(process.execPath, argv, { cwd: pkg, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, err });
      });
    });
    console.log(`serve on a busy port exited after ${Date.now() - started} ms`);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, new RegExp(`gatekeeper: cannot listen: 127\\.0\\.0\\.1:${port} is already in use`));
  } finally {
    busy.close();
  }
});
