/**
 * Every command a README shows is run. Shell blocks (```sh) run as written, in order, in a scratch copy of the
 * repository's examples (packages, policies and node_modules linked): `export` lines set the environment, `serve`
 * commands start in the background and must become ready, other commands must exit 0, and a `# →` line after a
 * command lists output the command must print (its "key":value pairs). Placeholders are filled from what earlier
 * commands printed (`<id>`: the last approval id). A command that cannot run here names in ELSEWHERE where it is
 * run instead, and that place must contain it. Synopsis lines of our CLIs in other blocks (`gatekeeper serve
 * [--config FILE]`) must name subcommands and options that the CLI's --help has.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const OUR_CLIS = ['gatekeeper', 'rego', 'ledger', 'sandbox'];

interface Command {
  readme: string;
  block: number;
  text: string;
  /** "key":value fragments from a following `# →` line */
  expect: string[];
}

/** Where a command that is not run here is run, as evidence: `file` must contain `contains` (true: the command itself). */
const ELSEWHERE: { command: RegExp; file: string; contains: string | true; why: string }[] = [
  { command: /^npm run bench:/, file: 'test/bench-quick.test.ts', contains: true, why: 'benches run there with --quick' },
  { command: /^npm install && npm run demo\b/, file: 'test/docs.test.ts', contains: "DEMO_SETUP = 'npm run demo'", why: 'npm install is .ci/run\'s npm ci; npm run demo runs here, interactive, before the approvals CLI block' },
  { command: /^npm test$/, file: '.ci/run', contains: 'npm test', why: 'it is this test run' },
  { command: /^npm test -w @oagf\/(ledger|rego|sandbox|gatekeeper)\b/, file: 'package.json', contains: 'packages/*/test/*.test.ts', why: 'a workspace\'s tests are part of npm test' },
  { command: /^export GATEKEEPER_URL=\S+ GATEKEEPER_KEY=\S+$/, file: 'packages/gatekeeper/test/openai-frameworks.test.ts', contains: "examples/agent-frameworks/README.md", why: 'the framework examples need a gatekeeper before a scripted model: that test runs the README block with its own URL and key' },
  { command: /^npx tsx examples\/agent-frameworks\/(openai-agents|vercel-ai)\.ts\b/, file: 'packages/gatekeeper/test/openai-frameworks.test.ts', contains: "examples/agent-frameworks/README.md", why: 'run there, as the README shows, against a gatekeeper before a scripted model' },
  { command: /^kubectl kustomize deploy\/kubernetes\/overlays\/(sidecar|replicated)$/, file: 'test/deploy-kubernetes.test.ts', contains: true, why: 'the scratch copy has no deploy/; that test renders both overlays and validates every object' },
  { command: /^docker (build|run) /, file: 'test/deploy-docker.test.ts', contains: 'parseDockerfile', why: 'no container engine or registry here: that test checks the Dockerfile and runs its runtime layout' },
  { command: /^npm run conformance -w @oagf\/rego\b/, file: 'packages/rego/test/conformance.test.ts', contains: "runConformance", why: 'the conformance test runs the same runner on every suite' },
];

/** Files a shell block expects beside it (placeholders a reader supplies). */
const FIXTURES: Record<string, string> = {
  'file.py': 'print("hello from the sandbox")\nopen("result.txt", "w").write("42\\n")\n',
};

/** Long-running commands a block needs started first (README, block index): the interactive demo for its CLI. */
const DEMO_SETUP = 'npm run demo';
const SETUP: Record<string, { command: string; ready: RegExp; exits: boolean }> = {
  'README.md#4': { command: DEMO_SETUP, ready: /Waiting for the decision/, exits: true },
};

function readmes(): string[] {
  return execFileSync('git', ['ls-files', '*README.md', 'README.md'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
}

interface Block {
  lang: string;
  lines: string[];
}

function blocks(file: string): Block[] {
  const out: Block[] = [];
  let cur: Block | undefined;
  for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
    const fence = /^```(\S*)/.exec(line);
    if (fence && !cur) cur = { lang: fence[1]!, lines: [] };
    else if (fence && cur) (out.push(cur), (cur = undefined));
    else cur?.lines.push(line);
  }
  return out;
}

/** Shell commands of a block: continuation lines joined, trailing comments dropped, `# →` lines as expectations. */
function shellCommands(readme: string, block: number, lines: string[]): Command[] {
  const out: Command[] = [];
  let pending = '';
  for (const raw of lines) {
    const line = raw.trimEnd();
    const arrow = /^#\s*(?:→)?\s*(.*)$/.exec(line.trim());
    if (arrow && !pending) {
      if (line.includes('→') || (out.length && out[out.length - 1]!.expect.length)) out[out.length - 1]?.expect.push(...fragments(arrow[1]!));
      continue;
    }
    if (!line.trim()) continue;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    out.push({ readme, block, text: stripComment(pending), expect: [] });
    pending = '';
  }
  return out;
}

/** `"key":"value"` and `"key":number` pairs without ellipses: what the output must contain. */
function fragments(text: string): string[] {
  return [...text.matchAll(/"[a-z_]+":(?:"[^"…]*"|-?\d+(?:\.\d+)?)(?=[,}\]])/g)].map((m) => m[0]);
}

function stripComment(command: string): string {
  let quote = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) quote = c === quote ? '' : quote;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && /\s/.test(command[i - 1] ?? ' ')) return command.slice(0, i).trim();
  }
  return command.trim();
}

function allShellCommands(): Command[] {
  return readmes().flatMap((readme) =>
    blocks(readme).flatMap((b, i) => (/^(sh|bash|shell|console)$/.test(b.lang) ? shellCommands(readme, i, b.lines) : [])),
  );
}

/** Lines of non-shell blocks that invoke one of our CLIs (usage synopses). */
function synopses(): { readme: string; line: string }[] {
  const out: { readme: string; line: string }[] = [];
  for (const readme of readmes()) {
    for (const b of blocks(readme)) {
      if (/^(sh|bash|shell|console)$/.test(b.lang)) continue;
      for (const line of b.lines) {
        const cmd = stripComment(line.trim());
        if (new RegExp(`^(npx )?(${OUR_CLIS.join('|')}) `).test(cmd) || /^npm (run|test)\b/.test(cmd)) out.push({ readme, line: cmd });
      }
    }
  }
  return out;
}

function elsewhere(command: string) {
  return ELSEWHERE.find((e) => e.command.test(command));
}

function evidenced(where: (typeof ELSEWHERE)[number], command: string): boolean {
  return readFileSync(join(ROOT, where.file), 'utf8').includes(where.contains === true ? `'${command}'` : where.contains);
}

class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'gk-docs-'));
  readonly env: NodeJS.ProcessEnv = { ...process.env, PATH: `${BIN}:${process.env.PATH}`, NO_COLOR: '1' };
  readonly outputs: string[] = [];
  private readonly background: { command: string; child: ChildProcess; output: () => string }[] = [];

  constructor() {
    for (const name of ['packages', 'node_modules', 'policies', 'spec']) symlinkSync(join(ROOT, name), join(this.dir, name));
    cpSync(join(ROOT, 'examples'), join(this.dir, 'examples'), { recursive: true, filter: (src) => !/node_modules|\.gatekeeper-demo|\.db(-wal|-shm)?$|\.skey$/.test(src) });
    // npm run build from here must find the base tsconfig the packages extend (through the packages link)
    for (const name of ['package.json', 'tsconfig.base.json']) cpSync(join(ROOT, name), join(this.dir, name));
    for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(this.dir, name), text);
  }

  /** Fills placeholders from earlier output. */
  fill(command: string): string {
    return command.replace(/<id>/g, () => {
      const ids = this.outputs.join('\n').match(/apr_[A-Za-z0-9]+/g);
      assert.ok(ids, `no approval id printed before: ${command}`);
      return ids[ids.length - 1]!;
    });
  }

  run(command: string, timeoutMs = 180_000): string {
    const r = spawnSync('bash', ['-c', command], { cwd: this.dir, env: this.env, encoding: 'utf8', timeout: timeoutMs });
    const output = `${r.stdout}${r.stderr}`;
    this.outputs.push(output);
    assert.equal(r.status, 0, `\`${command}\` exited ${r.status ?? r.signal}:\n${output.slice(-3000)}`);
    return r.stdout;
  }

  async start(command: string, ready: () => Promise<boolean>, what: string): Promise<void> {
    // its own process group: npx and the CLI shims start children, and stopping must reach all of them
    const child = spawn('bash', ['-c', `exec ${command}`], { cwd: this.dir, env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c));
    child.stderr!.on('data', (c: Buffer) => (output += c));
    this.background.push({ command, child, output: () => output });
    const end = Date.now() + 120_000;
    while (!(await ready.call(null).catch(() => false))) {
      if (child.exitCode !== null) assert.fail(`\`${command}\` exited ${child.exitCode} before ${what}:\n${output.slice(-3000)}`);
      if (Date.now() > end) assert.fail(`\`${command}\` did not reach ${what} in 120 s:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.outputs.push(output);
  }

  output(command: string): string {
    return this.background.find((b) => b.command === command)!.output();
  }

  async waitExit(command: string): Promise<number | null> {
    const b = this.background.find((x) => x.command === command)!;
    if (b.child.exitCode === null) await new Promise((r) => b.child.once('exit', r));
    return b.child.exitCode;
  }

  async stopAll(): Promise<void> {
    for (const { child } of this.background) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
      // the group's other members (the CLI behind npx) may outlive the leader briefly
      for (let i = 0; i < 100 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 50));
    }
    this.background.length = 0;
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

async function readyz(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return res.status === 200;
}

/** The port a `serve --config FILE` command listens on, from that file's `listen:`. */
function servePort(scratch: Scratch, command: string): number {
  const config = /--config\s+(\S+)/.exec(command)?.[1];
  assert.ok(config, `a serve command without --config: ${command}`);
  const m = /^listen:\s*\S*:(\d+)/m.exec(readFileSync(join(scratch.dir, config), 'utf8'));
  return m ? Number(m[1]) : 8787;
}

test('every README shell command runs as shown (or names where it runs instead)', async (t) => {
  if (!existsSync(join(ROOT, 'packages/gatekeeper/dist/cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  const byReadme = new Map<string, Command[]>();
  for (const c of allShellCommands()) byReadme.set(c.readme, [...(byReadme.get(c.readme) ?? []), c]);
  for (const [readme, commands] of byReadme) {
    await t.test(readme, async () => {
      assert.ok(await portFree(8787), 'port 8787 is in use: the README commands use it as written; stop what listens there');
      const scratch = new Scratch();
      try {
        let setupFor: string | undefined;
        for (const c of commands) {
          const key = `${readme}#${c.block}`;
          if (SETUP[key] && setupFor !== key) {
            setupFor = key;
            const s = SETUP[key]!;
            await scratch.start(s.command, async () => s.ready.test(scratch.output(s.command)), `printing ${s.ready}`);
          }
          const where = elsewhere(c.text);
          if (where) {
            assert.ok(evidenced(where, c.text), `${c.text}: ${where.file} should run it (${where.why})`);
            continue;
          }
          const exported = /^export ([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(c.text);
          if (exported) {
            scratch.env[exported[1]!] = exported[2]!;
            continue;
          }
          const command = scratch.fill(c.text);
          if (/\bserve\b/.test(command)) {
            const port = servePort(scratch, command);
            await scratch.start(command, () => readyz(port), `ready on port ${port}`);
            continue;
          }
          const out = scratch.run(command);
          for (const f of c.expect) assert.ok(out.replace(/\s+/g, '').includes(f), `\`${command}\` should print ${f}; it printed:\n${out.slice(0, 2000)}`);
        }
        for (const [key, s] of Object.entries(SETUP)) {
          if (key.startsWith(`${readme}#`) && s.exits) {
            const code = await scratch.waitExit(s.command);
            assert.equal(code, 0, `${s.command} should finish once the block ran:\n${scratch.output(s.command).slice(-2000)}`);
          }
        }
      } finally {
        await scratch.stopAll();
        scratch.close();
      }
    });
  }
});

test('every CLI synopsis in a README names subcommands and options the CLI has', async () => {
  const lines = synopses();
  const parsed = lines.filter((l) => !l.line.startsWith('npm ')).map((l) => ({ ...l, ...subcommandsOf(l.line) }));
  // every `--help` the checks may read, at once (each is a CLI start)
  const keys = new Set(parsed.flatMap(({ cli, subcommands }) => subcommands.flatMap((sub) => sub.map((_, n) => [cli, ...sub.slice(0, n + 1)].join(' ')).concat(cli))));
  const helps = new Map(await pool([...keys], 6, async (key) => [key, await helpOf(key.split(' '))] as const));
  const usageOf = (cli: string, sub: string[]) => {
    const key = [cli, ...sub].join(' ');
    const h = helps.get(key)!;
    return h.status === 0 && h.stdout.startsWith(`Usage: ${key} `);
  };
  const problems: string[] = [];
  for (const { readme, line } of lines.filter((l) => l.line.startsWith('npm '))) {
    const where = elsewhere(line);
    const script = /^npm run (\S+)/.exec(line)?.[1];
    const ws = /-w (\S+)/.exec(line)?.[1];
    if (script) {
      const pkg = ws ? join(ROOT, 'packages', ws.replace('@oagf/', ''), 'package.json') : join(ROOT, 'package.json');
      if (!(JSON.parse(readFileSync(pkg, 'utf8')) as { scripts: Record<string, string> }).scripts[script]) problems.push(`${readme}: ${line}: no script ${script}`);
    }
    if (!where) problems.push(`${readme}: ${line}: not run by any test (add it to ELSEWHERE with the place that runs it)`);
    else if (!evidenced(where, line)) problems.push(`${readme}: ${line}: ${where.file} does not run it (${where.why})`);
  }
  for (const { readme, line, cli, subcommands } of parsed) {
    for (const sub of subcommands) {
      // a path's last words may be positional arguments (`policy test policies`): the longest prefix with its own usage counts
      let known: string[] = [];
      for (let n = sub.length; n > 0 && !known.length; n--) if (usageOf(cli, sub.slice(0, n))) known = sub.slice(0, n);
      if (sub.length && !known.length && !existsSync(join(ROOT, sub[0]!))) problems.push(`${readme}: ${line}: ${cli} has no subcommand ${sub[0]}`);
      const h = helps.get([cli, ...known].join(' '))!;
      if (h.status !== 0) problems.push(`${readme}: ${line}: \`${[cli, ...known].join(' ')} --help\` exited ${h.status}`);
      for (const flag of line.matchAll(/(?<![\w-])(--?[a-zA-Z][\w-]*)/g)) {
        if (!new RegExp(`(^|[\\s,])${flag[1]!}\\b`).test(h.stdout)) problems.push(`${readme}: ${line}: \`${[cli, ...known].join(' ')} --help\` has no option ${flag[1]}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

/** The CLI and its candidate subcommand paths (`check|test|eval` expands to three). */
function subcommandsOf(line: string): { cli: string; subcommands: string[][] } {
  const words = line.replace(/^npx /, '').split(/\s+/);
  const path: string[][] = [];
  for (const w of words.slice(1)) {
    if (!/^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$/.test(w)) break;
    path.push(w.split('|'));
  }
  return { cli: words[0]!, subcommands: path.reduce<string[][]>((acc, alts) => acc.flatMap((p) => alts.map((a) => [...p, a])), [[]]) };
}

function helpOf([cli, ...sub]: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(BIN, cli!), [...sub, '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

async function pool<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  }));
  return out;
}
