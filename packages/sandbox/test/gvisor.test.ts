/**
 * The gvisor driver (rootless runsc, ptrace platform): runs what bwrap runs, with the same limits, asserted on the
 * host side; skipped, saying why, where runsc is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, chmodSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSandbox, SandboxError, type ExecutionRequest, type Sandbox } from '@oagf/sandbox';
import { hostProcessesWith, isRoot, startUpstream, type Upstream } from './helpers.js';

const runsc = (() => {
  try {
    accessSync('/usr/bin/runsc', constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();

const SECRET = `gvisor-secret-${randomBytes(8).toString('hex')}`;
let sandbox: Sandbox;
let stateDir: string;
let hostDir: string;
let upstream: Upstream;

const run = (request: Omit<ExecutionRequest, 'driver'>) => sandbox.run({ ...request, driver: 'gvisor' });

describe('gvisor driver', { skip: runsc ? false : 'runsc is not installed (Debian package "runsc")' }, () => {
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'oagf-gvisor-test-'));
    chmodSync(stateDir, 0o711);
    hostDir = mkdtempSync(join(tmpdir(), 'oagf-gvisor-host-'));
    chmodSync(hostDir, 0o755);
    writeFileSync(join(hostDir, 'gatekeeper-signing.key'), SECRET, { mode: 0o644 });
    upstream = await startUpstream();
    sandbox = await createSandbox({ stateDir });
    const status = (await sandbox.drivers()).find((d) => d.name === 'gvisor')!;
    assert.equal(status.available, true, status.reason);
  });

  after(async () => {
    await sandbox.close();
    await upstream.close();
    assert.deepEqual(readdirSync(stateDir), [], 'bundles, state and cgroups are removed');
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(hostDir, { recursive: true, force: true });
  });

  test('python with files, args, env, stdin and cwd; the outcome says gvisor', async () => {
    const o = await run({
      language: 'python',
      code: 'import os, sys; print(os.getcwd(), sys.argv[1:], os.environ["GREETING"], open("/work/data/in.txt").read(), sys.stdin.read(), sorted(os.environ))',
      args: ['two words'],
      env: { GREETING: "it's" },
      stdin: 'from stdin',
      files: [{ path: 'data/in.txt', content: 'file content' }],
      cwd: 'data',
    });
    assert.equal(o.status, 'exited', o.stderrText);
    assert.equal(o.driver, 'gvisor');
    assert.equal(o.stdoutText, "/work/data ['two words'] it's file content from stdin ['GREETING', 'HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR', 'USER', '_']\n");
    const shell = await run({ language: 'shell', code: 'exit 3' });
    assert.equal(shell.exitCode, 3);
  });

  test('host files, host processes and the host network are out of reach', async () => {
    const o = await run({
      language: 'python',
      code: `import os, socket
def attempt(f):
    try:
        f(); return "reached"
    except Exception as e:
        return type(e).__name__
print(attempt(lambda: open("/etc/shadow").read()))
print(attempt(lambda: open("${join(hostDir, 'gatekeeper-signing.key')}").read()))
print(attempt(lambda: open("/usr/${randomBytes(4).toString('hex')}", "w")))
print(attempt(lambda: socket.create_connection(("127.0.0.1", ${upstream.port}), timeout=2)))
print(sorted(p for p in os.listdir("/proc") if p.isdigit()) == sorted(p for p in os.listdir("/proc") if p.isdigit() and int(p) < 10))`,
    });
    assert.equal(o.status, 'exited', o.stderrText);
    assert.equal(o.stdoutText, 'FileNotFoundError\nFileNotFoundError\nPermissionError\nConnectionRefusedError\nTrue\n', o.stderrText);
    assert.equal(o.stdoutText.includes(SECRET), false);
    assert.equal(upstream.connections, 0, 'the host service got nothing');
  });

  test('limits: timeout leaves no runsc process, a memory hog is OOM-killed, an output flood is cut', async () => {
    const timeout = await run({ language: 'shell', code: 'sleep 1000 & sleep 1000', limits: { wallTimeMs: 1500 } });
    assert.equal(timeout.status, 'timeout');
    assert.deepEqual(hostProcessesWith(`oagf-${timeout.id}`), [], 'runsc and its sandbox are gone');
    const oom = await run({ language: 'python', code: 'a = []\nwhile True: a.append(bytearray(1 << 20))', limits: { memoryBytes: 128 << 20 } });
    assert.equal(oom.status, 'oom', oom.stderrText);
    const flood = await run({ language: 'python', code: 'import sys\nwhile True: sys.stdout.write("x" * 65536)', limits: { outputBytes: 100_000 } });
    assert.equal(flood.status, 'output_limit');
    assert.equal(flood.stdout.bytes + flood.stderr.bytes, 100_000);
  });

  test('as root, runsc runs as the sandbox uid', { skip: isRoot ? false : 'the host process is not root' }, async () => {
    const marker = `oagf-gv-uid-${randomBytes(4).toString('hex')}`;
    const pending = run({ language: 'shell', code: `sleep 1.5; echo ${marker}`, env: { MARKER: marker } });
    let uids: string[] = [];
    for (let i = 0; i < 100 && uids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      uids = hostProcessesWith(stateDir).map((pid) => {
        try {
          return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
        } catch {
          return '';
        }
      }).filter(Boolean);
    }
    await pending;
    assert.ok(uids.length > 0);
    assert.deepEqual([...new Set(uids)], ['65534']);
  });

  test('what it cannot do yet is refused before anything runs (describe() too), not run differently: network allowlists, output files', async () => {
    assert.throws(() => sandbox.describe({ driver: 'gvisor', language: 'python', code: 'pass', outputs: ['x'] }), (e: unknown) => e instanceof SandboxError && e.code === 'invalid_request');
    await assert.rejects(run({ language: 'python', code: 'pass', network: { allow: ['pypi.org:443'] } }), (e: unknown) => e instanceof SandboxError && e.code === 'invalid_request' && /without network/.test(e.message));
    await assert.rejects(run({ language: 'python', code: 'pass', outputs: ['x'] }), (e: unknown) => e instanceof SandboxError && e.code === 'invalid_request' && /output files/.test(e.message));
  });
});
