/**
 * Escape attempts, each asserted on the host side where the host can see the effect (the file does not exist, the
 * process is gone, the secret did not come out).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSandbox, type Sandbox } from '@oagf/sandbox';
import { hostProcessesWith, isRoot, leftoverExecutionCgroups } from './helpers.js';

const SECRET = `host-secret-${randomBytes(8).toString('hex')}`;
let sandbox: Sandbox;
let hostDir: string;

before(async () => {
  process.env.OAGF_SANDBOX_TEST_SECRET = SECRET;
  hostDir = mkdtempSync(join(tmpdir(), 'oagf-escape-'));
  chmodSync(hostDir, 0o755);
  // Readable by every host user on purpose: only the sandbox's isolation keeps it out.
  writeFileSync(join(hostDir, 'gatekeeper-signing.key'), `-----BEGIN PRIVATE KEY-----\n${SECRET}\n`, { mode: 0o644 });
  let mounts: { host: string; sandbox: string }[] = [];
  if (isRoot) {
    const suidDir = join(hostDir, 'suid');
    mkdirSync(suidDir);
    copyFileSync('/usr/bin/id', join(suidDir, 'id'));
    chownSync(join(suidDir, 'id'), 0, 0);
    chmodSync(join(suidDir, 'id'), 0o4755);
    mounts = [{ host: suidDir, sandbox: '/opt/suid' }];
  }
  sandbox = await createSandbox({ mounts });
});

after(async () => {
  await sandbox.close();
  delete process.env.OAGF_SANDBOX_TEST_SECRET;
  rmSync(hostDir, { recursive: true, force: true });
  assert.deepEqual(leftoverExecutionCgroups(), [], 'every execution cgroup is removed');
});

const py = (code: string, extra: object = {}) => sandbox.run({ language: 'python', code, ...extra });
const sh = (code: string, extra: object = {}) => sandbox.run({ language: 'shell', code, ...extra });

describe('escape attempts fail', () => {
  test('writing outside the work dir: read-only system, private /tmp, nothing lands on the host', async () => {
    const marker = `oagf-escape-${randomBytes(6).toString('hex')}`;
    const targets = ['/usr', '/etc', '/', '/tmp', '/var/tmp', '/.sandbox', '/dev', hostDir, tmpdir()].map((d) => join(d, marker));
    const o = await py(`
import json
results = {}
for path in ${JSON.stringify(targets)}:
    try:
        open(path, "w").write("x")
        results[path] = "written"
    except OSError as e:
        results[path] = e.strerror
print(json.dumps(results))`);
    assert.equal(o.status, 'exited', o.stderrText);
    const results = JSON.parse(o.stdoutText) as Record<string, string>;
    assert.match(results[join('/usr', marker)]!, /Read-only file system/);
    for (const target of targets) assert.equal(existsSync(target), false, `${target} must not exist on the host (sandbox said: ${results[target]})`);
  });

  test('reading host files: /etc/shadow, a key file on the host, /proc/1/environ, /proc/1/root', async () => {
    const key = join(hostDir, 'gatekeeper-signing.key');
    const o = await py(`
import os
for path in ["/etc/shadow", ${JSON.stringify(key)}, "/proc/1/environ", "/proc/self/environ", "/proc/1/root${key}", "/proc/1/root/etc/shadow"]:
    try:
        print(path, "->", open(path, "rb").read()[:200])
    except OSError as e:
        print(path, "->", e.strerror)
print("env", dict(os.environ))`);
    assert.equal(o.status, 'exited', o.stderrText);
    assert.equal(o.stdoutText.includes(SECRET), false, 'the secret does not come out');
    assert.match(o.stdoutText, /\/etc\/shadow -> No such file or directory/);
    assert.doesNotMatch(o.stdoutText, /OAGF_SANDBOX_TEST_SECRET/);
    assert.match(o.stdoutText, /\/proc\/1\/environ -> b''/, "bwrap's reaper was started with an empty environment");
  });

  test('host processes are invisible', async () => {
    const marker = `oagf-visible-${randomBytes(6).toString('hex')}`;
    const host = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', marker], { stdio: 'ignore' });
    try {
      const o = await py(`
import os
pids = [p for p in os.listdir("/proc") if p.isdigit()]
cmdlines = [open(f"/proc/{p}/cmdline", "rb").read() for p in pids]
print(len(pids), b"${marker}" in b"".join(cmdlines))`);
      assert.equal(o.status, 'exited', o.stderrText);
      const [count, seen] = o.stdoutText.trim().split(' ');
      assert.equal(seen, 'False');
      assert.ok(Number(count) <= 4, `only the sandbox's own processes (got ${count})`);
    } finally {
      host.kill('SIGKILL');
    }
  });

  test('raw and packet sockets are refused', async () => {
    const o = await py(`
import socket
for args in [(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP), (socket.AF_PACKET, socket.SOCK_RAW, 0), (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)]:
    try:
        socket.socket(*args)
        print("opened")
    except OSError as e:
        print(e.errno)`);
    assert.equal(o.status, 'exited', o.stderrText);
    assert.deepEqual(o.stdoutText.trim().split('\n'), ['1', '1', '1'], 'EPERM for each');
  });

  test('ptrace is refused (PTRACE_TRACEME and attaching to the wrapper)', async () => {
    const o = await py(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print(libc.ptrace(0, 0, 0, 0), ctypes.get_errno())
print(libc.ptrace(16, 2, 0, 0), ctypes.get_errno())`);
    assert.equal(o.status, 'exited', o.stderrText);
    assert.deepEqual(o.stdoutText.trim().split('\n'), ['-1 1', '-1 1']);
  });

  test('mount is refused, also of a fresh tmpfs', async () => {
    const o = await py(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
os.mkdir("m")
print(libc.mount(b"none", b"m", b"tmpfs", 0, None), ctypes.get_errno())
print(libc.umount2(b"/usr", 0), ctypes.get_errno())`);
    assert.equal(o.status, 'exited', o.stderrText);
    assert.deepEqual(o.stdoutText.trim().split('\n'), ['-1 1', '-1 1']);
  });

  test('a new user namespace cannot be created (unshare, clone)', async () => {
    const o = await sh('unshare -U -r id 2>&1; echo "rc=$?"; python3 -c "import ctypes; l=ctypes.CDLL(None, use_errno=True); print(l.unshare(0x10000000), ctypes.get_errno())"');
    assert.equal(o.status, 'exited', o.stderrText);
    assert.match(o.stdoutText, /Operation not permitted/);
    assert.match(o.stdoutText, /rc=1/);
    assert.match(o.stdoutText, /-1 1/);
    assert.doesNotMatch(o.stdoutText, /uid=0/);
  });

  test('setuid-root binaries do not raise privileges', { skip: isRoot ? false : 'needs root to create a setuid-root binary' }, async () => {
    const o = await sh('/opt/suid/id -u; /opt/suid/id -un; id -u; /usr/bin/su -c id root </dev/null 2>&1 | head -1');
    assert.equal(o.status, 'exited', o.stderrText);
    const [effective, name, plain] = o.stdoutText.trim().split('\n');
    assert.equal(effective, '1000', 'the setuid bit is ignored (no_new_privs, unmapped owner)');
    assert.equal(name, 'sandbox');
    assert.equal(plain, '1000');
  });

  test('a fork bomb hits the pids limit and leaves nothing behind', async () => {
    const marker = `oagf-bomb-${randomBytes(4).toString('hex')}`;
    // The bomb waits for its children: a parent that returns at once ends the run (and the sandbox kills the rest) before any fork fails.
    const o = await sh(`bomb() { bomb | bomb & wait; }; exec -a ${marker} bash -c "$(declare -f bomb); bomb"`, { limits: { pids: 32, wallTimeMs: 20_000 } });
    assert.equal(o.status, 'pids_limit');
    assert.ok(o.limitsReached.includes('pids'));
    assert.deepEqual(hostProcessesWith(marker), []);
  });

  test('a memory hog is OOM-killed at the limit', async () => {
    const o = await py('a = []\nwhile True: a.append(bytearray(1 << 20))', { limits: { memoryBytes: 64 << 20 } });
    assert.equal(o.status, 'oom');
    assert.ok(o.usage.maxMemoryBytes! <= 64 << 20, `peak ${o.usage.maxMemoryBytes}`);
  });

  test('filling the disk stops at the work dir size', async () => {
    const o = await sh('dd if=/dev/zero of=big bs=1M count=64 2>&1; dd if=/dev/zero of=/tmp/big bs=1M count=64 2>&1; ls -l big', { limits: { diskBytes: 4 << 20 } });
    assert.equal(o.status, 'disk_limit', o.stdoutText);
    assert.ok(o.limitsReached.includes('disk'));
  });

  test('an output flood is cut at the output limit', async () => {
    const o = await py('import sys\nwhile True: sys.stdout.write("x" * 65536)', { limits: { outputBytes: 100_000 } });
    assert.equal(o.status, 'output_limit');
    assert.equal(o.stdout.bytes + o.stderr.bytes, 100_000);
    assert.equal(o.stdout.truncated, true);
  });

  test('no process survives the timeout, daemonised or not', async () => {
    const marker = `oagf-linger-${randomBytes(4).toString('hex')}`;
    const o = await sh(`(exec -a ${marker}-a sleep 1000) & setsid bash -c "exec -a ${marker}-b sleep 1000" & nohup bash -c "trap '' TERM HUP; exec -a ${marker}-c sleep 1000" & sleep 1000`, { limits: { wallTimeMs: 800 } });
    assert.equal(o.status, 'timeout');
    assert.equal(o.exitCode, null);
    assert.deepEqual(hostProcessesWith(marker), []);
  });

  test('no process survives the program ending normally', async () => {
    const marker = `oagf-daemon-${randomBytes(4).toString('hex')}`;
    const o = await sh(`setsid bash -c "exec -a ${marker} sleep 1000" </dev/null >/dev/null 2>&1 & echo started`);
    assert.equal(o.status, 'exited');
    assert.equal(o.stdoutText, 'started\n');
    assert.deepEqual(hostProcessesWith(marker), []);
  });
});
