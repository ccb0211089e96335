/** `gatekeeper approvals list|show|approve|reject` against a running gatekeeper (the demo world). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStory } from '../src/demo/agents.js';
import { AGENT_KEYS, startDemo } from '../src/demo/world.js';
import type { Approval } from '../src/approvals/types.js';
import { approvalsCommand } from '../src/approvals/cli.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));

/** The real `gatekeeper` binary (one start compiles the whole TypeScript source, so it is used once). */
function spawnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=development', 'src/cli.ts', ...args],
      { cwd: PKG, env: { ...process.env, GATEKEEPER_PASSWORD: 'gatekeeper' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The same command, run in this process: its output and the error it ends with. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const log = console.log;
  const saved = process.env.GATEKEEPER_PASSWORD;
  console.log = (...parts: unknown[]) => void out.push(parts.join(' '));
  process.env.GATEKEEPER_PASSWORD = env.GATEKEEPER_PASSWORD ?? 'gatekeeper';
  try {
    await approvalsCommand().exitOverride().parseAsync(args.slice(1), { from: 'user' });
    return { code: 0, stdout: out.join('\n'), stderr: '' };
  } catch (err) {
    return { code: 1, stdout: out.join('\n'), stderr: (err as Error).message };
  } finally {
    console.log = log;
    process.env.GATEKEEPER_PASSWORD = saved;
  }
}

test('a reviewer lists, reads and decides a request from the command line; the owner is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gk-cli-test-'));
  const world = await startDemo({ dir, port: 0, mode: 'async', holdTimeoutS: 60 });
  try {
    const opened = new Promise<Approval>((r) => world.approvals.once('created', r));
    const story = runStory({ gatekeeperUrl: world.gatekeeperUrl, plannerKey: AGENT_KEYS.planner, buyerKey: AGENT_KEYS.buyer, events: { step() {} } });
    const { id } = await opened;
    const url = ['--url', world.gatekeeperUrl];

    const list = await spawnCli(['approvals', 'list', ...url, '--user', 'audrey']);
    // In-process runs capture console.log, so they run one after another.
    const show = await cli(['approvals', 'show', id, ...url, '--user', 'priya']);
    const wrong = await cli(['approvals', 'list', ...url, '--user', 'priya'], { GATEKEEPER_PASSWORD: 'nope' });
    const owner = await cli(['approvals', 'approve', id, ...url, '--user', 'dana']);
    const auditor = await cli(['approvals', 'approve', id, ...url, '--user', 'audrey']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id}\\s+pending\\s+buyer\\s+\\$2,400,000\\.00\\s+POST erp/orders`));

    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /amount {5}\$2,400,000\.00/);
    assert.match(show.stdout, /above the 1000000 limit agent buyer/);
    assert.match(show.stdout, /reasoning trace \(planner → buyer\)/);
    assert.match(show.stdout, /notice webhook#1: delivered/);

    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong user or password/);
    assert.equal(owner.code, 1);
    assert.match(owner.stderr, /dana owns agent buyer and cannot approve its request \(four eyes\)/);
    assert.equal(auditor.code, 1);
    assert.match(auditor.stderr, /no reviewer role/);

    const ok = await cli(['approvals', 'approve', id, ...url, '--user', 'priya', '--comment', 'from the terminal']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`${id}: approved \\(verdict signed, ledger entry #\\d+\\)`));

    // The URL can come from the gatekeeper's own configuration file instead (issue 17, finding 8).
    const fromConfig = await cli(['approvals', 'list', '--config', world.configFile, '--user', 'audrey', '--status', 'all']);
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.match(fromConfig.stdout, new RegExp(`${id}\\s+approved`));

    const result = await story;
    assert.equal(result.order?.status, 201);
    const after = await cli(['approvals', 'list', ...url, '--user', 'priya', '--status', 'all', '-q', 'terminal']);
    assert.match(after.stdout, new RegExp(`${id}\\s+approved\\*`));
  } finally {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--config: the console public URL when set, else the listen address (a wildcard one reached on loopback)', async () => {
  const { gatekeeperUrl } = await import('../src/approvals/cli.js');
  const { writeFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'gk-cli-config-'));
  try {
    const file = join(dir, 'gatekeeper.yaml');
    const base = 'policy: { bundle: ./policy }\nledger: { path: ./ledger.db, signing_key_file: ./ledger.skey }\n';
    writeFileSync(file, `listen: 0.0.0.0:9911\n${base}`);
    assert.equal(gatekeeperUrl({ config: file }), 'http://127.0.0.1:9911');
    writeFileSync(file, `listen: 127.0.0.1:9911\n${base}approvals:\n  console: { public_url: https://gk.example.com/console }\n`);
    assert.equal(gatekeeperUrl({ config: file }), 'https://gk.example.com');
    assert.equal(gatekeeperUrl({ config: file, url: 'http://elsewhere:1' }), 'http://elsewhere:1', '--url wins');
    assert.equal(gatekeeperUrl({}, { GATEKEEPER_URL: 'http://from-env:2' }), 'http://from-env:2');
    assert.throws(() => gatekeeperUrl({ config: join(dir, 'missing.yaml') }), /missing\.yaml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
