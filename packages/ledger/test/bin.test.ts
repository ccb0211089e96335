/**
 * The `ledger` bin works right after `npm install`, before any build: npm links bins at install time and skips a
 * missing file, so the bin is a committed shim (bin/ledger.js) that runs dist/ once built and the TypeScript
 * sources through tsx until then. Installed here into a fresh project from a copy of the package without dist/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const tsxVersion = (JSON.parse(readFileSync(fileURLToPath(new URL('../../../node_modules/tsx/package.json', import.meta.url)), 'utf8')) as { version: string }).version;

function sh(cwd: string, command: string, args: string[]) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the bin entry is a committed, executable shim', () => {
  assert.equal(manifest.bin.ledger, './bin/ledger.js');
  assert.ok(statSync(join(pkg, 'bin/ledger.js')).mode & 0o111, 'executable');
});

test('npx ledger works after npm install, before and after a build', { timeout: 180_000 }, () => {
  const project = tempDir();
  const copy = join(project, 'ledger');
  for (const part of ['bin', 'src', 'package.json', 'tsconfig.json']) cpSync(join(pkg, part), join(copy, part), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh-clone', private: true, dependencies: { '@oagf/ledger': 'file:./ledger', tsx: tsxVersion } }));
  // No install scripts: better-sqlite3's native build is not what this checks (and the commands below never open a database).
  const install = sh(project, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  assert.equal(install.code, 0, install.err);

  const version = sh(project, 'npx', ['--no-install', 'ledger', '--version']);
  assert.equal(version.code, 0, version.err);
  assert.equal(version.out, `${manifest.version}\n`, 'from the TypeScript sources');
  const keygen = sh(project, 'npx', ['--no-install', 'ledger', 'keygen', 'fresh.example/log', '--json']);
  assert.equal(keygen.code, 0, keygen.err);
  assert.match(JSON.parse(keygen.out).vkey, /^fresh\.example\/log\+[0-9a-f]{8}\+/);

  mkdirSync(join(copy, 'dist'));
  writeFileSync(join(copy, 'dist/cli.js'), "process.stdout.write('compiled cli\\n');\n");
  assert.equal(sh(project, 'npx', ['--no-install', 'ledger']).out, 'compiled cli\n', 'once built, dist/ runs');
});

test('without a build and without tsx the shim says what to do', () => {
  const alone = tempDir();
  cpSync(join(pkg, 'bin'), join(alone, 'bin'), { recursive: true });
  writeFileSync(join(alone, 'package.json'), '{"type":"module"}');
  const r = sh(alone, process.execPath, [join(alone, 'bin/ledger.js'), '--version']);
  assert.equal(r.code, 2);
  assert.match(r.err, /not built yet and tsx is not installed; run `npm run build`/);
});
