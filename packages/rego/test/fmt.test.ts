import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatSource } from '../src/format/format.js';
import { CONFORMANCE, conformanceModules, FIXTURES, MODE_OPTIONS, repoModules, type Mode } from './fmt/modules.js';

// Expected outputs were recorded from OPA 1.10.0's `opa fmt` (test/fmt/record-opa.ts).

function fixtureFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? fixtureFiles(join(dir, f)) : [join(dir, f)]));
}

test('rego fmt gives opa fmt\'s output for policies/, examples/ and the v0 policies (v1, --v0-compatible, --rego-v1)', () => {
  const byKey = new Map(repoModules().map((m) => [`${m.mode}/${m.key}`, m]));
  const fixtures = fixtureFiles(FIXTURES).filter((f) => f.endsWith('.rego'));
  assert.ok(fixtures.length >= 23, `only ${fixtures.length} fixtures`);
  const differ: string[] = [];
  for (const f of fixtures) {
    const key = relative(FIXTURES, f);
    const m = byKey.get(key);
    assert.ok(m, `fixture ${key} has no source module`);
    if (formatSource(m.src, m.file, MODE_OPTIONS[m.mode]) !== readFileSync(f, 'utf8')) differ.push(key);
  }
  // A module changed since the fixtures were recorded also lands here: re-record them (test/fmt/record-opa.ts).
  assert.deepEqual(differ, [], 'rego fmt differs from the recorded opa fmt output (or the source changed since recording)');
});

test('rego fmt gives opa fmt\'s output for every conformance and regression module OPA formats', () => {
  assert.ok(existsSync(join(CONFORMANCE, 'opa-v1/cases')), `OPA conformance cases missing under ${CONFORMANCE}`);
  const want = JSON.parse(readFileSync(join(FIXTURES, 'conformance.json'), 'utf8')) as Record<Mode, Record<string, string>>;
  let compared = 0;
  const differ: string[] = [];
  for (const m of conformanceModules()) {
    const digest = want[m.mode][m.key];
    if (digest === undefined) continue;
    compared++;
    let got: string;
    try { got = formatSource(m.src, m.file, MODE_OPTIONS[m.mode]); } catch (e) { differ.push(`${m.mode} ${m.key}: ${(e as Error).message.split('\n')[0]}`); continue; }
    if (createHash('sha256').update(got).digest('hex') !== digest) differ.push(`${m.mode} ${m.key}`);
  }
  assert.ok(compared >= 2700, `only ${compared} modules compared`);
  assert.deepEqual(differ, []);
});

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
function rego(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', cli, ...args], { encoding: 'utf8' });
}

test('rego fmt CLI: prints, lists (-l), fails on a diff (--fail, exit 2), rewrites (-w), --rego-v1 refuses what v1 forbids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-fmt-cli-'));
  // outside dir: `fmt -l dir` must not meet the v0 file, which is a parse error for v1 formatting
  const v0 = join(tmpdir(), `rego-fmt-v0-${process.pid}.rego`);
  try {
    const messy = join(dir, 'messy.rego'), clean = join(dir, 'clean.rego');
    writeFileSync(messy, 'package p\nallow if {   input.x == 1 ; input.y }\n');
    writeFileSync(clean, 'package p\n\nallow if input.x == 1\n');
    writeFileSync(v0, 'package p\n\ndeny[msg] { input := 1; msg := "x" }\n');
    const formatted = 'package p\n\nallow if {\n\tinput.x == 1\n\tinput.y\n}\n';
    assert.equal(rego('fmt', messy).stdout, formatted);
    const l = rego('fmt', '-l', dir);
    assert.equal(l.status, 0);
    assert.deepEqual(l.stdout.trim().split('\n'), [messy]);
    assert.equal(rego('fmt', '--fail', clean).status, 0);
    const f = rego('fmt', '--fail', messy);
    assert.equal(f.status, 2);
    assert.match(f.stderr, /unexpected diff/);
    assert.equal(rego('fmt', '-w', messy).status, 0);
    assert.equal(readFileSync(messy, 'utf8'), formatted);
    const r = rego('fmt', '--rego-v1', v0);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /failed to format Rego source file: 1 error occurred:\n.*rego-fmt-v0-\d+\.rego:3: rego_compile_error: variables must not shadow input/);
    assert.equal(rego('fmt', v0).status, 2, 'v0 source is a parse error for v1 formatting');
    assert.equal(rego('fmt', '--v0-compatible', v0).stdout, 'package p\n\ndeny[msg] {\n\tinput := 1\n\tmsg := "x"\n}\n');
  } finally {
    rmSync(dir, { recursive: true });
    rmSync(v0, { force: true });
  }
});
