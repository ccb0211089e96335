/** The host process as a normal user: the sandbox runs as that user, with a delegated cgroup or refusing without one. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { isRoot } from './helpers.js';

const run = promisify(execFile);
const USER = 4242;
const V1 = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'];
const delegated = `/oagf-test-delegated-${randomBytes(4).toString('hex')}`;
const isV1 = (() => {
  try {
    return readdirSync('/sys/fs/cgroup/memory').includes('memory.limit_in_bytes');
  } catch {
    return false;
  }
})();

async function asUser(options: object, request: object): Promise<{ uid: number; outcome?: any; error?: { code: string; message: string } }> {
  const fixture = join(import.meta.dirname, 'fixtures', 'unprivileged-host.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--conditions=development', fixture, JSON.stringify(options), JSON.stringify(request)], {
    uid: USER,
    gid: USER,
    cwd: join(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH, HOME: '/tmp', TSX_TSCONFIG_PATH: undefined } as NodeJS.ProcessEnv,
    timeout: 60_000,
  });
  return JSON.parse(stdout);
}

describe('as an unprivileged host user', { skip: isRoot ? false : 'needs root to start a host process as another user' }, () => {
  before(() => {
    if (!isV1) return;
    // What an administrator does to delegate: a cgroup per controller owned by the user.
    for (const c of V1) {
      const dir = `/sys/fs/cgroup/${c}${delegated}`;
      mkdirSync(dir);
      for (const f of ['', 'cgroup.procs', 'tasks']) chownSync(join(dir, f), USER, USER);
    }
  });

  after(() => {
    if (!isV1) return;
    for (const c of V1) rmdirSync(`/sys/fs/cgroup/${c}${delegated}`);
  });

  test('without a usable cgroup the execution is refused, naming the reason', async () => {
    const r = await asUser({}, { language: 'python', code: 'print(1)' });
    assert.equal(r.uid, USER);
    assert.equal(r.error?.code, 'limits_unenforceable');
    assert.match(r.error!.message, /NOT enforced: cgroup/);
  });

  test('allowUnenforcedLimits runs it, with the warning in the outcome; the sandbox runs as the user', async () => {
    const r = await asUser({ allowUnenforcedLimits: true }, { language: 'python', code: 'import os; print(os.getuid()); open("o", "w").write("x")', outputs: ['o'] });
    assert.equal(r.outcome.status, 'exited', r.outcome.stderrText);
    assert.equal(r.outcome.stdoutText, '1000\n');
    assert.equal(r.outcome.files[0].content, 'x');
    assert.match(r.outcome.warnings[0], /NOT enforced/);
    assert.equal(r.outcome.usage.cpuMs, null);
  });

  test('the gvisor driver runs as the user too (rootless runsc)', { skip: existsSync('/usr/bin/runsc') ? false : 'runsc is not installed' }, async () => {
    const r = await asUser({ allowUnenforcedLimits: true }, { driver: 'gvisor', language: 'python', code: 'import os; print(os.getuid(), open("/work/in.txt").read())', files: [{ path: 'in.txt', content: 'in' }] });
    assert.equal(r.uid, USER);
    assert.equal(r.outcome.status, 'exited', r.outcome.error ?? r.outcome.stderrText);
    assert.equal(r.outcome.driver, 'gvisor');
    assert.equal(r.outcome.stdoutText, '1000 in\n');
  });

  test('with a delegated cgroup every limit is enforced (memory hog → oom, fork bomb → pids_limit)', { skip: isV1 ? false : 'delegation set-up here is for cgroup v1' }, async () => {
    const options = { cgroups: { mode: 'v1', parent: delegated } };
    const ok = await asUser(options, { language: 'shell', code: 'id -u; echo hi > /work/x', outputs: ['x'] });
    assert.equal(ok.outcome.status, 'exited', ok.outcome.stderrText);
    assert.deepEqual(ok.outcome.warnings, []);
    assert.ok(ok.outcome.usage.cpuMs > 0);
    const hog = await asUser(options, { language: 'python', code: 'a = []\nwhile True: a.append(bytearray(1 << 20))', limits: { memoryBytes: 48 << 20 } });
    assert.equal(hog.outcome.status, 'oom');
    const bomb = await asUser(options, { language: 'shell', code: 'b() { b | b & wait; }; b; wait', limits: { pids: 24 } });
    assert.equal(bomb.outcome.status, 'pids_limit');
    for (const c of V1) assert.deepEqual(readdirSync(`/sys/fs/cgroup/${c}${delegated}`, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name), []);
  });
});
