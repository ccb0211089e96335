/** Languages, files, stdin, environment, working dir, streaming, cancellation, queue, description, uid. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createSandbox, SandboxError, type Sandbox } from '@oagf/sandbox';
import { hostProcessesWith, isRoot } from './helpers.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
let sandbox: Sandbox;

before(async () => {
  process.env.OAGF_SANDBOX_LEAK_CHECK = 'must-not-leak';
  sandbox = await createSandbox({ concurrency: 2, maxQueued: 2 });
});

after(async () => {
  await sandbox.close();
  delete process.env.OAGF_SANDBOX_LEAK_CHECK;
});

describe('execution', () => {
  test('python: files in and out, stdin, args, env (and nothing of the host env), cwd', async () => {
    const o = await sandbox.run({
      language: 'python',
      code: `
import os, sys, json
data = open("data/in.csv").read()
os.makedirs("out/deep", exist_ok=True)
open("out/deep/result.txt", "w").write(data.upper())
open("report.json", "w").write(json.dumps({"args": sys.argv[1:], "stdin": sys.stdin.read(), "cwd": os.getcwd(), "env": sorted(os.environ), "greeting": os.environ["GREETING"]}))
os.symlink("/etc/hostname", "out/link")
print("done")`,
      args: ['--flag', 'two words'],
      stdin: 'from stdin',
      env: { GREETING: 'hello' },
      files: [{ path: 'data/in.csv', content: 'a,b\n1,2\n' }],
      outputs: ['report.json', 'out/', 'missing.txt'],
      cwd: '.',
    });
    assert.equal(o.status, 'exited', o.stderrText);
    assert.equal(o.exitCode, 0);
    assert.equal(o.stdoutText, 'done\n');
    const report = JSON.parse(o.files.find((f) => f.path === 'report.json')!.content.toString());
    assert.deepEqual(report, { args: ['--flag', 'two words'], stdin: 'from stdin', cwd: '/work', env: ['GREETING', 'HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR', 'USER', '_'], greeting: 'hello' });
    const result = o.files.find((f) => f.path === 'out/deep/result.txt')!;
    assert.equal(result.content.toString(), 'A,B\n1,2\n');
    assert.equal(result.sha256, sha('A,B\n1,2\n'));
    assert.deepEqual(o.skippedOutputs, [{ path: 'missing.txt', reason: 'missing' }], 'the symlink is not even listed: directory walks take regular files only');
  });

  test('a symlink named as an output is skipped, not followed to the host', async () => {
    const o = await sandbox.run({ language: 'shell', code: 'ln -s /etc/passwd leak; mkdir d; ln -s / d/root', outputs: ['leak', 'd/root/etc/passwd'] });
    assert.equal(o.status, 'exited', o.stderrText);
    assert.deepEqual(o.files, []);
    assert.deepEqual(o.skippedOutputs, [
      { path: 'leak', reason: 'not_regular' },
      { path: 'd/root/etc/passwd', reason: 'missing' },
    ]);
  });

  test('output files are size-capped', async () => {
    const o = await sandbox.run({ language: 'shell', code: 'head -c 3000 /dev/zero > a; head -c 3000 /dev/zero > b; head -c 9000 /dev/zero > c', outputs: ['a', 'b', 'c'], limits: { outputFilesBytes: 5000 } });
    assert.deepEqual(o.files.map((f) => f.path), ['a']);
    assert.deepEqual(o.skippedOutputs, [{ path: 'b', reason: 'total_too_large' }, { path: 'c', reason: 'too_large' }]);
  });

  test('javascript (CommonJS and ES module syntax), shell and an uploaded binary', async () => {
    const cjs = await sandbox.run({ language: 'javascript', code: 'const os = require("node:os"); console.log(os.userInfo().username, process.argv.slice(2).join(","))', args: ['x', 'y'] });
    assert.equal(cjs.stdoutText, 'sandbox x,y\n', cjs.stderrText);
    const esm = await sandbox.run({ language: 'javascript', code: 'import { readFileSync } from "node:fs"; console.log(readFileSync("/etc/passwd", "utf8").includes("sandbox:x:1000"), await Promise.resolve(42))' });
    assert.equal(esm.stdoutText, 'true 42\n', esm.stderrText);
    const shell = await sandbox.run({ language: 'shell', code: 'echo "$((6*7)) $(whoami) $(hostname)"; exit 3' });
    assert.equal(shell.stdoutText, '42 sandbox sandbox\n');
    assert.equal(shell.exitCode, 3);
    assert.equal(shell.status, 'exited');
    const binary = await sandbox.run({ language: 'binary', code: readFileSync('/usr/bin/echo'), args: ['uploaded', 'binary'] });
    assert.equal(binary.stdoutText, 'uploaded binary\n', binary.stderrText);
    assert.equal(binary.description.code.sha256, sha(readFileSync('/usr/bin/echo')));
  });

  test('an executable input file and a working directory below the work dir', async () => {
    const o = await sandbox.run({ language: 'shell', code: 'pwd; ./tool.sh', files: [{ path: 'sub/dir/tool.sh', content: '#!/bin/sh\necho tool ran\n', executable: true }], cwd: 'sub/dir' });
    assert.equal(o.stdoutText, '/work/sub/dir\ntool ran\n', o.stderrText);
  });

  test('describe() is pure data known before running: digests, sizes, hosts, limits, files', () => {
    const request = { language: 'python' as const, code: 'print(1)', files: [{ path: 'a.txt', content: 'abc' }], network: { allow: ['pypi.org:443'] }, limits: { memoryBytes: 128 << 20 }, env: { TOKEN: 'secret-value' } };
    const d = sandbox.describe(request);
    assert.deepEqual(d.code, { sha256: sha('print(1)'), bytes: 8 });
    assert.deepEqual(d.files, [{ path: 'a.txt', sha256: sha('abc'), bytes: 3, executable: false }]);
    assert.deepEqual(d.network, { allow: ['pypi.org:443'], allowPrivateRanges: [] });
    assert.equal(d.limits.memoryBytes, 128 << 20);
    assert.deepEqual(d.env, ['TOKEN'], 'names only: values may be secrets');
    assert.equal(JSON.stringify(d).includes('secret-value'), false);
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'round-trips through JSON');
  });

  test('invalid requests are rejected with the problem named', async () => {
    const cases: [unknown, RegExp][] = [
      [{ language: 'ruby', code: 'x' }, /language/],
      [{ language: 'python', code: 'x', files: [{ path: '../escape', content: '' }] }, /files\.0\.path/],
      [{ language: 'python', code: 'x', files: [{ path: '/abs', content: '' }] }, /files\.0\.path/],
      [{ language: 'python', code: 'x', limits: { memoryBytes: 1 } }, /limits\.memoryBytes/],
      [{ language: 'python', code: 'x', limits: { wallTimeMs: 10 ** 9 } }, /above the maximum/],
      [{ language: 'python', code: 'x', env: { HTTP_PROXY: 'x' } }, /env\.HTTP_PROXY/],
      [{ language: 'python', code: 'x', extra: true }, /Unrecognized key/],
      [{ language: 'python', code: 'x', files: [{ path: 'a', content: '' }, { path: 'a', content: '' }] }, /given twice/],
      [{ language: 'python', code: 'x'.repeat(70_000), limits: { diskBytes: 65_536 } }, /do not fit/],
    ];
    for (const [request, message] of cases) {
      assert.throws(() => sandbox.describe(request as never), (e: unknown) => e instanceof SandboxError && e.code === 'invalid_request' && message.test(e.message));
    }
  });

  test('stdout and stderr stream while the code runs', async () => {
    const chunks: string[] = [];
    let sawFirstBeforeEnd = false;
    const execution = sandbox.start(
      { language: 'python', code: 'import sys, time\nprint("first", flush=True)\ntime.sleep(0.5)\nprint("err", file=sys.stderr, flush=True)\nprint("last")' },
      { onStdout: (c) => chunks.push(`out:${c}`), onStderr: (c) => chunks.push(`err:${c}`) },
    );
    setTimeout(() => (sawFirstBeforeEnd = chunks.join('').includes('first')), 350);
    const o = await execution.outcome;
    assert.equal(sawFirstBeforeEnd, true, 'the first line arrived before the program ended');
    assert.deepEqual(chunks, ['out:first\n', 'err:err\n', 'out:last\n']);
    assert.equal(o.stdout.sha256, sha('first\nlast\n'));
  });

  test('cancellation kills the whole tree and says so', async () => {
    const marker = `oagf-cancel-${randomBytes(4).toString('hex')}`;
    const controller = new AbortController();
    const pending = sandbox.run({ language: 'shell', code: `exec -a ${marker} sleep 1000` }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const o = await pending;
    assert.equal(o.status, 'cancelled');
    assert.deepEqual(hostProcessesWith(marker), []);
  });

  test('concurrency limit and queue: two run, two wait, the fifth is refused, a queued one can be cancelled', async () => {
    const slow = { language: 'shell' as const, code: 'sleep 0.6; echo done' };
    const a = sandbox.start(slow);
    const b = sandbox.start(slow);
    const c = sandbox.start(slow);
    const d = sandbox.start(slow);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual({ ...sandbox.stats, warm: 0 }, { running: 2, queued: 2, warm: 0 });
    await assert.rejects(sandbox.run(slow), (e: unknown) => e instanceof SandboxError && e.code === 'queue_full');
    d.cancel();
    await assert.rejects(d.outcome, (e: unknown) => e instanceof SandboxError && e.code === 'cancelled');
    const outcomes = await Promise.all([a.outcome, b.outcome, c.outcome]);
    assert.deepEqual(outcomes.map((o) => o.stdoutText), ['done\n', 'done\n', 'done\n']);
    assert.deepEqual({ ...sandbox.stats, warm: 0 }, { running: 0, queued: 0, warm: 0 });
  });

  test('warm sandboxes: prepared ahead, each used once, nothing of one execution in the next; close() removes them', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'oagf-warm-test-'));
    chmodSync(stateDir, 0o711);
    const warm = await createSandbox({ concurrency: 1, warm: 2, stateDir });
    try {
      assert.equal(warm.stats.warm, 0, 'nothing is prepared before the first request');
      const first = await warm.run({ language: 'shell', code: 'echo secret > /work/left; echo x > /tmp/left; echo first', env: { ONLY_FIRST: '1' } });
      assert.equal(first.stdoutText, 'first\n', first.error);
      for (let i = 0; i < 200 && warm.stats.warm < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(warm.stats.warm, 2);
      await new Promise((r) => setTimeout(r, 500));
      // The sandbox's pid 1 (bwrap's reaper) started long before the program when the sandbox was prepared ahead.
      const second = await warm.run({
        language: 'python',
        code: `import os
start = lambda pid: int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])
print(sorted(os.listdir("/work")), os.listdir("/tmp"), "ONLY_FIRST" in os.environ, open("in.txt").read())
print((start("self") - start(1)) / os.sysconf("SC_CLK_TCK") >= 0.4)`,
        files: [{ path: 'in.txt', content: 'second' }],
      });
      assert.equal(second.status, 'exited', second.stderrText);
      assert.equal(second.stdoutText, "['in.txt'] [] False second\nTrue\n", 'nothing of the first execution, and a sandbox prepared ahead');
      const cold = await createSandbox({ concurrency: 1, warm: 0 });
      try {
        const o = await cold.run({ language: 'python', code: 'import os\nstart = lambda pid: int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])\nprint((start("self") - start(1)) / os.sysconf("SC_CLK_TCK") >= 0.4)' });
        assert.equal(o.stdoutText, 'False\n', 'without the pool the sandbox is made for the request');
        assert.equal(cold.stats.warm, 0);
      } finally {
        await cold.close();
      }
    } finally {
      await warm.close();
    }
    assert.deepEqual(hostProcessesWith(stateDir), [], 'no prepared sandbox outlives close()');
    assert.deepEqual(readdirSync(stateDir), [], 'the sandbox removed its own files');
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('the request\'s environment is exported only for the program: BASH_ENV does not run in the wrapper', async () => {
    const o = await sandbox.run({
      language: 'python',
      code: 'import os; print(os.path.exists("/work/sourced"), os.environ["BASH_ENV"])',
      env: { BASH_ENV: '/work/evil.sh' },
      files: [{ path: 'evil.sh', content: 'echo pwned > /work/sourced\n' }],
    });
    assert.equal(o.stdoutText, 'False /work/evil.sh\n', o.stderrText);
  });

  test('as root, the sandboxed code runs as uid 65534 on the host with no supplementary groups', { skip: isRoot ? false : 'the host process is not root' }, async () => {
    const marker = `oagf-uid-${randomBytes(4).toString('hex')}`;
    const pending = sandbox.run({ language: 'shell', code: `exec -a ${marker} sleep 2` });
    let status = '';
    for (let i = 0; i < 100 && !status; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const [pid] = hostProcessesWith(marker);
      if (pid) status = readFileSync(`/proc/${pid}/status`, 'utf8');
    }
    await pending;
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Groups:\s*$/m);
    assert.match(status, /^CapEff:\s+0+$/m);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^Seccomp:\s+2$/m);
  });

  test('the executions\' parent cgroup weighs as much as `concurrency` ordinary processes (cgroup v1 here)', { skip: existsSync('/sys/fs/cgroup/cpu/cpu.shares') && isRoot ? false : 'needs root on a cgroup v1 cpu hierarchy (v2 is covered in units)' }, async () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^\d+:(?:[^:]*,)?cpu(?:,[^:]*)?:(.*)$/m)?.[1] ?? '/';
    const shares = `/sys/fs/cgroup/cpu${own === '/' ? '' : own}/oagf-sandbox/cpu.shares`;
    const three = await createSandbox({ concurrency: 3 });
    try {
      assert.equal(readFileSync(shares, 'utf8').trim(), '3072');
    } finally {
      await three.close();
    }
  });

  test('the sandbox never runs as uid 0', async () => {
    await assert.rejects(createSandbox({ uid: 0 }), /never runs as root/);
  });
});
