/**
 * The root Dockerfile, checked without a container engine (none here, and no registry to pull a base image from):
 * its structure (a build stage that compiles, a runtime stage with production dependencies only, a numeric
 * non-root USER, a HEALTHCHECK on /healthz, the state directory a volume, nothing secret copied), every file it
 * copies exists and is not excluded by .dockerignore, and the runtime stage's layout — built from the same COPY
 * lines out of this checkout — starts, answers the HEALTHCHECK command and writes nothing outside its volume.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  instructions: Instruction[];
}

/** Instructions by stage: continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line.startsWith('#') || !line)) continue;
    if (line.startsWith('#')) continue;
    pending += `${pending ? ' ' : ''}${line.replace(/\\$/, '').trim()}`;
    if (line.endsWith('\\')) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(pending)!;
    pending = '';
    const instruction = { op: op!.toUpperCase(), args: args! };
    if (instruction.op === 'FROM') stages.push({ name: /\bAS\s+(\S+)$/i.exec(args!)?.[1] ?? String(stages.length), instructions: [] });
    else if (instruction.op !== 'ARG' || stages.length) stages.at(-1)!.instructions.push(instruction);
  }
  return stages;
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const build = dockerfile[0]!;
const runtime = dockerfile.at(-1)!;
const all = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op);

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}
function copies(stage: Stage): Copy[] {
  return [...all(stage, 'COPY'), ...all(stage, 'ADD')].map(({ args }) => {
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    return { ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1)! };
  });
}

/** .dockerignore patterns as regular expressions over context paths (the subset of its syntax we use). */
function ignored(): RegExp[] {
  return readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '(?:.*/)?')}(?:/.*)?$`));
}

const SECRET_FILE = /\.(skey|pem|key|p12|jks)$|(^|\/)\.env(\.|$)|(^|\/)\.npmrc$/i;

test('two stages: the build compiles with dev dependencies, the runtime gets production dependencies only', () => {
  assert.ok(dockerfile.length >= 2, 'a multi-stage Dockerfile');
  const runs = all(build, 'RUN').map((r) => r.args);
  const ci = runs.findIndex((r) => /\bnpm ci\b(?!.*--omit=dev)/.test(r));
  const compile = runs.findIndex((r) => /\bnpm run build\b/.test(r));
  const prod = runs.findIndex((r) => /\bnpm ci\b.*--omit=dev/.test(r));
  assert.ok(ci >= 0 && compile > ci && prod > compile, `build stage: npm ci, npm run build, then npm ci --omit=dev (got ${JSON.stringify(runs)})`);
  assert.ok(!all(runtime, 'RUN').some((r) => /\bnpm (ci|install)\b|\bg\+\+|\bmake\b|\btsc\b/.test(r.args)), 'nothing is installed or compiled in the runtime stage');
  const modules = copies(runtime).find((c) => c.sources.some((s) => s.endsWith('/node_modules')));
  assert.equal(modules?.from, build.name, 'node_modules come from the build stage, after --omit=dev');
  assert.ok(!copies(runtime).some((c) => c.sources.some((s) => /\/src\/packages\/[^/]+\/src$/.test(s))), 'no TypeScript sources in the image');
});

test('the runtime runs as a numeric non-root user, with a health check on /healthz and the state dir as a volume', () => {
  const user = all(runtime, 'USER').at(-1)?.args;
  assert.match(user ?? '', /^[1-9]\d*(:\d+)?$/, 'a numeric uid (Kubernetes runAsNonRoot can only check numbers), not 0');
  const healthcheck = all(runtime, 'HEALTHCHECK');
  assert.equal(healthcheck.length, 1);
  const env = all(runtime, 'ENV').map((e) => e.args).join(' ');
  assert.match(healthcheck[0]!.args, /CMD .*GATEKEEPER_HEALTH_URL/);
  assert.match(env, /GATEKEEPER_HEALTH_URL=http:\/\/127\.0\.0\.1:8787\/healthz/);
  assert.match(all(runtime, 'VOLUME').map((v) => v.args).join(' '), /"\/var\/lib\/gatekeeper"/);
  assert.match(all(runtime, 'ENTRYPOINT')[0]?.args ?? '', /packages\/gatekeeper\/dist\/cli\.js/);
});

test('nothing secret is copied, set or left in the build context', () => {
  for (const stage of dockerfile) {
    for (const c of copies(stage)) for (const s of c.sources) assert.doesNotMatch(s, SECRET_FILE, `${stage.name} copies ${s}`);
    for (const e of [...all(stage, 'ENV'), ...all(stage, 'ARG')]) {
      for (const [, name] of e.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)) assert.doesNotMatch(name!, /KEY|TOKEN|SECRET|PASSWORD/i, `${stage.name} sets ${name}`);
    }
  }
  const patterns = ignored();
  const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  // What the sample configurations and demos name as key and state files is excluded even if someone creates it.
  for (const path of ['examples/keynote/ledger.skey', 'deploy/ledger.skey', 'approval-key.pem', '.env', 'packages/gatekeeper/.env.local', 'x/ledger.db', 'x/ledger.db-wal', '.git/config', '.npmrc']) {
    assert.ok(patterns.some((p) => p.test(path)), `.dockerignore should exclude ${path}`);
  }
  for (const path of tracked) if (SECRET_FILE.test(path) && !patterns.some((p) => p.test(path))) assert.fail(`${path} looks secret and is in the build context`);
});

test('every file the Dockerfile copies exists and is in the build context', () => {
  const patterns = ignored();
  for (const stage of dockerfile) {
    for (const c of copies(stage)) {
      for (const source of c.sources) {
        if (c.from) {
          assert.equal(c.from, build.name, `${source}: copied from an unknown stage`);
          // The build stage's /src is this checkout after npm run build.
          assert.ok(source.startsWith('/src/'), source);
          assert.ok(existsSync(join(ROOT, source.slice('/src/'.length))), `${source} is not made by the build stage`);
        } else {
          assert.ok(existsSync(join(ROOT, source)), `${source} is not in the repository`);
          assert.ok(!patterns.some((p) => p.test(source.replace(/\/$/, ''))), `${source} is excluded by .dockerignore`);
        }
      }
    }
  }
});

/** Bare imports of a built package's files: what must be installed beside it. */
function importsOf(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of files(dir).filter((f) => f.endsWith('.js'))) {
    for (const [, spec] of readFileSync(join(dir, file), 'utf8').matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"./][^'"]*)['"]/g)) {
      const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
      if (!spec!.startsWith('node:') && !builtinModules.includes(name)) found.set(name, file);
    }
  }
  return found;
}

test('everything the built packages import is a production dependency (all the runtime stage installs)', () => {
  // The ledger's writer and verifier workers register tsx only when running from TypeScript sources (tests).
  const sourcesOnly: Record<string, string[]> = { ledger: ['tsx'] };
  for (const pkg of ['rego', 'ledger', 'sandbox', 'gatekeeper']) {
    const dir = join(ROOT, 'packages', pkg);
    if (!existsSync(join(dir, 'dist'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    const dependencies = Object.keys((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {});
    for (const [name, file] of importsOf(join(dir, 'dist'))) {
      assert.ok(dependencies.includes(name) || sourcesOnly[pkg]?.includes(name), `packages/${pkg}/dist/${file} imports ${name}, which is not in its dependencies`);
    }
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Files below `dir` (symlinks not followed), relative to it. */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = posix.join(prefix, e.name);
    return e.isDirectory() && !lstatSync(join(dir, rel)).isSymbolicLink() ? files(dir, rel) : [rel];
  });
}

test('the runtime stage layout starts, answers its HEALTHCHECK and writes only below its volume', async () => {
  if (!existsSync(join(ROOT, 'packages/gatekeeper/dist/cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  const image = mkdtempSync(join(tmpdir(), 'gk-image-'));
  const at = (path: string, workdir: string) => join(image, posix.isAbsolute(path) ? path : posix.join(workdir, path));
  try {
    let workdir = '/';
    for (const i of runtime.instructions) {
      if (i.op === 'WORKDIR') workdir = i.args;
      if (i.op !== 'COPY') continue;
      const c = copies({ name: runtime.name, instructions: [i] })[0]!;
      for (const source of c.sources) {
        const from = join(ROOT, c.from ? source.slice('/src/'.length) : source);
        const dest = at(c.dest, workdir);
        const target = c.dest.endsWith('/') ? join(dest, posix.basename(source)) : dest;
        mkdirSync(dirname(target), { recursive: true });
        if (source.endsWith('/node_modules')) {
          // The checkout's dependencies, linked (copying them would take long); the workspace links point into the image.
          mkdirSync(target);
          for (const name of readdirSync(from)) if (name !== '@oagf') symlinkSync(join(from, name), join(target, name));
          mkdirSync(join(target, '@oagf'));
          for (const name of readdirSync(join(from, '@oagf'))) symlinkSync(join('..', '..', 'packages', name), join(target, '@oagf', name));
        } else cpSync(from, target, { recursive: true });
      }
    }
    for (const dir of ['var/lib/gatekeeper', 'etc/gatekeeper', 'tmp']) mkdirSync(join(image, dir), { recursive: true });
    const port = await freePort();
    const state = join(image, 'var/lib/gatekeeper');
    writeFileSync(
      join(image, 'etc/gatekeeper/gatekeeper.yaml'),
      [
        `listen: 127.0.0.1:${port}`,
        `policy: { bundle: [${join(image, 'usr/share/gatekeeper/policies')}] }`,
        `ledger: { path: ${state}/ledger.db, signing_key_file: ${state}/ledger.skey, origin: image.test/ledger }`,
        `approvals: { database: ${state}/approvals.db, signing_key_file: ${state}/approval-key.pem }`,
        '',
      ].join('\n'),
    );
    const before = new Set(files(image));
    const entrypoint = JSON.parse(all(runtime, 'ENTRYPOINT')[0]!.args) as string[];
    const cmd = (JSON.parse(all(runtime, 'CMD').at(-1)!.args) as string[]).map((a) => (a.startsWith('/') ? join(image, a) : a));
    assert.equal(entrypoint[0], 'node');
    const env = { PATH: process.env.PATH!, NODE_ENV: 'production', TMPDIR: join(image, 'tmp') };
    // The key a Secret would mount; serve --generate-key writes it where the config says (the volume here).
    const child = spawn(process.execPath, [join(image, entrypoint[1]!), ...cmd, '--generate-key'], { cwd: at('.', workdir), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      const deadline = Date.now() + 60_000;
      while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
        assert.equal(child.exitCode, null, `the image's command exited:\n${output}`);
        assert.ok(Date.now() < deadline, `not ready in 60 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const health = JSON.parse(all(runtime, 'HEALTHCHECK')[0]!.args.replace(/^.*?CMD\s+/, '')) as string[];
      const probe = (url: string) => spawnSync(process.execPath, health.slice(1), { env: { ...env, GATEKEEPER_HEALTH_URL: url }, encoding: 'utf8', timeout: 10_000 }).status;
      assert.equal(probe(`http://127.0.0.1:${port}/healthz`), 0, 'healthy');
      assert.equal(probe(`http://127.0.0.1:${port}/no-such-endpoint`), 1, 'a failing answer is unhealthy');
      const css = await fetch(`http://127.0.0.1:${port}/console/static/console.css`);
      assert.equal(css.status, 200, 'the approval console has its browser files');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    }
    const written = files(image).filter((f) => !before.has(f) && !f.startsWith('var/lib/gatekeeper/') && !f.startsWith('tmp/'));
    assert.deepEqual(written, [], 'a read-only root filesystem would refuse these writes');
    assert.ok(existsSync(join(state, 'ledger.db')), 'the ledger is on the volume');
  } finally {
    rmSync(image, { recursive: true, force: true });
  }
});
