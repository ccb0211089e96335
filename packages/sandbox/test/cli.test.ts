/** The README's CLI commands, run as a user runs them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = (args: string[], cwd: string) =>
  run(process.execPath, ['--import', import.meta.resolve('tsx'), '--conditions=development', join(import.meta.dirname, '..', 'src', 'cli.ts'), ...args], { cwd, timeout: 60_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

test('sandbox run --lang python file.py --allow-net pypi.org:443 --out result.txt', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oagf-cli-'));
  try {
    writeFileSync(join(dir, 'file.py'), 'import sys\nprint("hello", sys.argv[1:])\nopen("result.txt", "w").write("42")\n');
    const r = await cli(['run', '--lang', 'python', 'file.py', '--allow-net', 'pypi.org:443', '--out', 'result.txt', '--', 'arg1'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello ['arg1']\n");
    assert.match(r.stderr, /sandbox: exited \(exit 0\), wall \d+ ms, cpu \d+ ms/);
    assert.equal(readFileSync(join(dir, 'result.txt'), 'utf8'), '42');
    writeFileSync(join(dir, 'slow.sh'), 'sleep 10\n');
    const slow = await cli(['run', '--lang', 'shell', 'slow.sh', '--timeout', '300'], dir);
    assert.equal(slow.code, 124);
    assert.match(slow.stderr, /sandbox: timeout/);
    const bad = await cli(['run', '--lang', 'cobol', 'file.py'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Allowed choices are python, javascript, shell, binary/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sandbox drivers says why a driver is unavailable', async () => {
  const r = await cli(['drivers'], tmpdir());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bwrap\tavailable\t/m);
  assert.match(r.stdout, /^microvm\t(available|unavailable)\t.+/m);
  assert.match(r.stdout, /^gvisor\t(available|unavailable)\t.+/m);
});
