import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const fixtures = fileURLToPath(new URL('./cli-fixtures/', import.meta.url));
const v0 = fileURLToPath(new URL('./v0-policies/', import.meta.url));

function rego(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('rego test prints PASS: N/M, names each failure and exits non-zero', () => {
  const r = rego('test', fixtures);
  assert.equal(r.code, 1);
  assert.match(r.out, /^FAIL: data\.fixture\.test_double_fails$/m);
  assert.match(r.out, /^PASS: 1\/2$/m);
});

test('rego test --v0-compatible passes the v0 suites and exits zero', () => {
  const r = rego('test', '--v0-compatible', v0);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^PASS: 9\/9$/m);
});

test('rego eval prints OPA-style JSON results', () => {
  const r = rego('eval', '-d', fixtures, 'x := data.fixture.double(21)');
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out);
  assert.deepEqual(out.result[0].bindings, { x: 42 });
});

test('rego check reports compile errors with file:line and exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-check-'));
  writeFileSync(join(dir, 'bad.rego'), 'package bad\n\np if {\n  x > 1\n}\n');
  const r = rego('check', dir);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.rego:4: rego_unsafe_var_error: var x is unsafe/);
  assert.equal(rego('check', fixtures).code, 0);
});

test('rego names a missing file plainly instead of printing a raw ENOENT', () => {
  for (const args of [['eval', '-d', '/nonexistent/policy.rego', 'data.x'], ['check', '/nonexistent/policy.rego'], ['test', '/nonexistent/dir'], ['eval', '-i', '/nonexistent/input.json', '1 == 1']]) {
    const r = rego(...args);
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: \/nonexistent\/[a-z.]+: no such file or directory$/m, r.err);
    assert.doesNotMatch(r.err, /ENOENT/);
  }
});

test('a v0 policy that fails to parse as v1 gets a --v0-compatible hint; v1 syntax errors do not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-v0-'));
  writeFileSync(join(dir, 'old.rego'), 'package old\n\nallow { input.x == 1 }\n');
  const r = rego('eval', '-d', dir, 'data.old.allow');
  assert.equal(r.code, 1);
  assert.match(r.err, /rego_parse_error/);
  assert.match(r.err, /hint: the modules parse as Rego v0: run with --v0-compatible/);
  assert.match(rego('check', dir).err, /--v0-compatible/);
  assert.equal(rego('check', '--v0-compatible', dir).code, 0);
  writeFileSync(join(dir, 'old.rego'), 'package old\n\nallow if { input.x == }\n');
  assert.doesNotMatch(rego('eval', '-d', dir, 'data.old.allow').err, /hint:/);
});

test('rego eval --explain names the default rule when it decided', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-explain-'));
  writeFileSync(join(dir, 'd.rego'), 'package d\n\ndefault allow := false\n\nallow if input.ok\n');
  const out = JSON.parse(rego('eval', '-d', dir, '--explain', 'data.d.allow').out);
  assert.deepEqual(out.explanation, [{ rule: 'data.d.allow', location: `${join(dir, 'd.rego')}:3` }]);
});

test('rego --version prints the package version', () => {
  const r = rego('--version');
  assert.equal(r.code, 0);
  assert.equal(r.out.trim(), JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
});

test('the committed bin shim runs the CLI from the TypeScript sources when dist/ is absent', () => {
  // a copy of the package without dist/ stands for a fresh clone before `npm run build` (inside node_modules/,
  // so that it resolves tsx and commander as the package does)
  const copy = mkdtempSync(join(fileURLToPath(new URL('../../../node_modules/', import.meta.url)), '.rego-shim-'));
  try {
    cpSync(fileURLToPath(new URL('../bin', import.meta.url)), join(copy, 'bin'), { recursive: true });
    cpSync(fileURLToPath(new URL('../src', import.meta.url)), join(copy, 'src'), { recursive: true });
    cpSync(fileURLToPath(new URL('../package.json', import.meta.url)), join(copy, 'package.json'));
    const r = spawnSync(process.execPath, [join(copy, 'bin', 'rego.js'), 'eval', 'x := 1 + 1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).result[0].bindings, { x: 2 });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('rego build writes a signed OPA bundle that verifies and compiles; rego inspect shows it', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { readBundle, compileBundle } = await import('../src/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'rego-build-'));
  const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  writeFileSync(join(dir, 'key.pem'), k.privateKey);
  const out = join(dir, 'bundle.tar.gz');
  const r = rego('build', '-o', out, '-r', 'rel-1', '--signing-key', join(dir, 'key.pem'), '--signing-alg', 'ES256', fixtures);
  assert.equal(r.code, 0, r.err);
  const b = readBundle(readFileSync(out), { verification: { keys: { default: { key: k.publicKey, algorithm: 'ES256' } } } });
  assert.equal(b.manifest.revision, 'rel-1');
  assert.equal(compileBundle(b).prepare('data.fixture.double(2)').eval().results[0].expressions[0].value, 4);
  const pretty = rego('inspect', out);
  assert.equal(pretty.code, 0, pretty.err);
  assert.match(pretty.out, /\| Revision +\| rel-1 +\|/);
  assert.match(pretty.out, /\| data\.fixture +\|/);
  assert.deepEqual(Object.keys(JSON.parse(rego('inspect', '-f', 'json', out).out).namespaces), ['data.fixture']);
  assert.match(rego('build', '-o', out, join(dir, 'missing')).err, /no such file or directory/);
});

// expected errors as OPA 1.18.2's `opa check` reports them for the same files
test('rego check --strict and -s schema report what opa check does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-strict-'));
  writeFileSync(join(dir, 'imports.rego'), 'package p\nimport data.q\nimport input.foo as f\n\nr if {\n  x := 1\n  y := 2\n  y > 0\n}\n');
  let r = rego('check', '--strict', join(dir, 'imports.rego'));
  assert.equal(r.code, 1);
  assert.match(r.err, /^2 errors occurred:\n.*imports\.rego:2: rego_compile_error: import data\.q unused\n.*imports\.rego:3: rego_compile_error: import input\.foo as f unused\n$/);
  writeFileSync(join(dir, 'vars.rego'), 'package p\n\nr if {\n  x := 1\n  y := 2\n  y > 0\n}\n\ng(a, b) := 1\n\nh(a) := 2 if { true }\ns := count([1]) == 1\n');
  r = rego('check', '--strict', join(dir, 'vars.rego'));
  assert.deepEqual(r.err.split('\n').filter(Boolean).map((l) => l.replace(/^.*vars\.rego/, 'vars.rego')), [
    '4 errors occurred:',
    'vars.rego:4: rego_compile_error: assigned var x unused',
    'vars.rego:9: rego_compile_error: unused argument a. (hint: use _ (wildcard variable) instead)',
    'vars.rego:9: rego_compile_error: unused argument b. (hint: use _ (wildcard variable) instead)',
    'vars.rego:11: rego_compile_error: unused argument a. (hint: use _ (wildcard variable) instead)',
  ]);
  assert.equal(rego('check', join(dir, 'vars.rego')).code, 0, 'not errors without --strict');
  writeFileSync(join(dir, 'schema.json'), '{"type":"object","properties":{"user":{"type":"object","properties":{"name":{"type":"string"}}},"n":{"type":"number"}}}');
  mkdirSync(join(dir, 'pol'));
  writeFileSync(join(dir, 'pol', 'q.rego'), 'package p\nt if upper(input.n)\nu if input.user.name.x\nv if input.nope == 1\nw if input.user.name == "a"\n');
  r = rego('check', '-s', join(dir, 'schema.json'), join(dir, 'pol'));
  assert.equal(r.code, 1);
  assert.match(r.err, /q\.rego:2: rego_type_error: upper: invalid argument\(s\)\n\thave: \(number\)/);
  assert.match(r.err, /q\.rego:3: rego_type_error: undefined ref: input\.user\.name\.x\n\thave: string/);
  assert.match(r.err, /q\.rego:4: rego_type_error: undefined ref: input\.nope\n\thave: "nope"\n\twant \(one of\): \["n" "user"\]/);
  assert.equal(rego('check', join(dir, 'pol')).code, 0, 'without a schema input is any');
});

test('rego bench and rego test --bench time queries and tests the way opa bench / opa test --bench report them', () => {
  const r = rego('bench', '--benchtime', '50', '-d', fixtures, 'data.fixture.double(2)');
  assert.equal(r.code, 0, r.err);
  const samples = Number(/\| samples +\| +(\d+) \|/.exec(r.out)?.[1]);
  assert.ok(samples > 10, r.out);
  assert.match(r.out, /\| ns\/op +\| +\d+ \|/);
  assert.match(r.out, /\| histogram_timer_rego_query_eval_ns_99% +\| +\d+ \|/);
  const j = JSON.parse(rego('bench', '--benchtime', '20', '-f', 'json', '-d', fixtures, 'data.fixture.double(2)').out);
  assert.ok(j.N > 0 && j.T > 0 && j.Extra['histogram_timer_rego_query_eval_ns_50%'] > 0);
  const t = rego('test', '--bench', '--benchtime', '20', fixtures);
  assert.equal(t.code, 1, 'a failing test still fails');
  assert.match(t.out, /^data\.fixture\.test_double_passes\t +\d+\t +\d+ ns\/op$/m);
  assert.match(t.out, /^FAIL: data\.fixture\.test_double_fails$/m);
});

test('rego test --coverage reports covered and not covered lines per file in OPA\'s JSON shape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-cov-'));
  writeFileSync(join(dir, 'p.rego'), 'package p\n\nallow if {\n\tinput.admin\n}\n\nallow if {\n\tinput.user == "alice"\n\tinput.method == "GET"\n}\n\ndeny if input.blocked\n');
  writeFileSync(join(dir, 'p_test.rego'), 'package p\n\ntest_admin if allow with input as {"admin": true}\n');
  const r = rego('test', '--coverage', dir);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out);
  const f = rep.files[join(dir, 'p.rego')];
  // the second allow is never evaluated: its index on input.user excludes it for this input
  assert.deepEqual(f.covered, [{ start: { row: 3 }, end: { row: 4 } }]);
  assert.deepEqual(f.not_covered, [{ start: { row: 7 }, end: { row: 9 } }, { start: { row: 12 }, end: { row: 12 } }]);
  assert.equal(f.covered_lines, 2);
  assert.equal(f.coverage, 33.33);
  assert.equal(rep.files[join(dir, 'p_test.rego')].coverage, 100);
});

test('rego eval --profile lists expressions by time with their evaluation counts and locations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-prof-'));
  writeFileSync(join(dir, 'p.rego'), 'package p\n\nallow if {\n\tsome x in input.xs\n\tx > 2\n}\n');
  writeFileSync(join(dir, 'in.json'), '{"xs": [1, 2, 3, 4]}');
  const r = rego('eval', '--profile', '-d', dir, '-i', join(dir, 'in.json'), 'data.p.allow');
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out);
  assert.equal(out.result[0].expressions[0].value, true);
  const rows = out.profile as { total_time_ns: number; num_eval: number; location: { file: string; row: number } }[];
  const at = (row: number) => rows.find((x) => x.location.row === row);
  assert.equal(at(4)?.num_eval, 1);
  assert.equal(at(5)?.num_eval, 3, 'x > 2 is evaluated for 1, 2 and 3 (3 succeeds)');
  assert.ok(rows.every((x, i) => i === 0 || rows[i - 1].total_time_ns >= x.total_time_ns), 'slowest first');
  assert.ok(rows.every((x) => x.location.file === join(dir, 'p.rego')));
});
