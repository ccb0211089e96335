/**
 * Agent code through the gatekeeper: `POST /v1/sandbox/executions` is a `sandbox.exec` action decided before
 * anything runs (the real bubblewrap sandbox, the standard library), escalated to a human for network access, bound
 * to the exact code by the approval, and recorded with its outcome.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { hashApiKey } from '../src/auth/agents.js';
import { approvalsModule } from '../src/approvals/module.js';
import type { ApprovalService } from '../src/approvals/service.js';
import { KEYS, SETTINGS, startGatekeeper, type Fixture } from './core/fixture.js';

const ADMIN = { authorization: 'Bearer admin-key' };
const PKG = fileURLToPath(new URL('..', import.meta.url));

describe('sandbox surface', () => {
  let fx: Fixture;
  let approvals: ApprovalService;

  before(async () => {
    const settings = structuredClone(SETTINGS) as { config: { agents: Record<string, Record<string, unknown>> } };
    settings.config.agents.buyer = { ...settings.config.agents.buyer, sandbox_languages: ['python', 'shell'], sandbox_hosts: ['pypi.org:443'] };
    fx = await startGatekeeper({
      settings,
      config: {
        sandbox: { warm: 1, default_limits: { wallTimeMs: 20_000 } },
        admin: { api_keys: [hashApiKey('admin-key')] },
        approvals: { database: ':memory:', signing_key_file: './approval.pem', modes: { sandbox: 'async' } },
      },
      build: { modules: [approvalsModule({ onReady: (s) => (approvals = s) })] },
    });
  });
  after(async () => fx.close());

  const execute = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${fx.url}/v1/sandbox/executions`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.buyer}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const ran = async () => {
    const text = await (await fetch(`${fx.url}/metrics`, { headers: ADMIN })).text();
    return [...text.matchAll(/^gatekeeper_sandbox_executions_total\{status="[a-z_]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  test('allowed code runs isolated; the answer and the outcome record say what happened', async () => {
    const res = await execute({ language: 'python', code: 'import os, sys\nprint("hello", sys.argv[1], os.getuid())', args: ['world'] });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; exit_code: number; stdout: string; record_id: string };
    assert.equal(body.status, 'exited');
    assert.equal(body.exit_code, 0);
    assert.equal(body.stdout, 'hello world 1000\n');
    await new Promise((r) => setTimeout(r, 50));
    await fx.gk.deps.ledger!.checkpointNow();
    const ledger = fx.gk.deps.ledger!;
    const decision = (await ledger.findById(body.record_id))!.record;
    assert.equal(decision.outcome, 'allow');
    assert.equal((decision.data as { kind: string }).kind, 'sandbox.exec');
    const outcome = (await ledger.findById(`${body.record_id}.outcome`))!.record;
    const facts = outcome.data as { status: string; exit_code: number; stdout: { bytes: number; sha256: string } };
    assert.equal(facts.status, 'exited');
    assert.equal(facts.stdout.bytes, 17);
    assert.match(facts.stdout.sha256, /^[0-9a-f]{64}$/);
  });

  test('a language the policy does not allow is refused, and nothing runs', async () => {
    const before = await ran();
    const res = await execute({ language: 'javascript', code: 'require("fs").writeFileSync("/tmp/x", "1")' });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /running javascript code in the sandbox is not allowed/);
    assert.equal(await ran(), before, 'no execution started');
  });

  test('network access to an unlisted host escalates; the approval binds the exact code and is used once', async () => {
    const code = 'print("fetching")';
    const body = { language: 'python', code, network: { allow: ['evil.example:443'] } };
    const before = await ran();
    const first = await execute(body);
    assert.equal(first.status, 202);
    const { approval_id } = ((await first.json()) as { error: { approval_id: string } }).error;
    const pending = (await approvals.get(approval_id))!;
    assert.equal((pending.input as { action: { arguments: { code: string } } }).action.arguments.code, code, 'the reviewer sees the code');
    await approvals.decide(approval_id, { username: 'priya', displayName: 'Priya', roles: ['reviewer'], groups: ['procurement-leads'] }, 'approve', 'fine');
    const changed = await execute({ ...body, code: 'print("something else")' }, { 'oagf-approval': approval_id });
    assert.equal(changed.status, 403, 'an approval covers the code it was granted for, nothing else');
    const retry = await execute(body, { 'oagf-approval': approval_id });
    assert.equal(retry.status, 200);
    assert.equal(((await retry.json()) as { stdout: string }).stdout, 'fetching\n');
    const again = await execute(body, { 'oagf-approval': approval_id });
    assert.equal(again.status, 403, 'single use');
    assert.equal(await ran(), before + 1);
  });

  test('limits end an execution with a distinct outcome; output can stream as server-sent events', async () => {
    const slow = await execute({ language: 'shell', code: 'sleep 30', limits: { wallTimeMs: 300 } });
    assert.equal(((await slow.json()) as { status: string }).status, 'timeout');
    const res = await execute({ language: 'shell', code: 'echo one; sleep 0.2; echo two' }, { accept: 'text/event-stream' });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await res.text();
    assert.match(text, /event: stdout\ndata: \{"text":"one\\n"\}/);
    assert.match(text, /event: outcome\ndata: \{[^\n]*"status":"exited"/);
  });

  test('gatekeeper sandbox run: the CLI goes through the gatekeeper and exits with the program\'s code', async () => {
    const dir = fx.dir;
    writeFileSync(join(dir, 'job.py'), 'import sys\nprint("from the cli")\nsys.exit(3)\n');
    // Not spawnSync: the gatekeeper answering the CLI runs in this process.
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const argv = ['--import', 'tsx', '--conditions=development', 'src/cli.ts', 'sandbox', 'run', ...args, '--url', fx.url, '--key', KEYS.buyer];
        execFile(process.execPath, argv, { cwd: PKG }, (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
      });
    const ok = await cli('--lang', 'python', join(dir, 'job.py'));
    assert.equal(ok.status, 3, ok.stderr);
    assert.equal(ok.stdout, 'from the cli\n');
    const refused = await cli('--lang', 'javascript', join(dir, 'job.py'));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /refused \(403\): running javascript code in the sandbox is not allowed/);
    const net = await cli('--lang', 'python', join(dir, 'job.py'), '--allow-net', 'evil.example:443');
    assert.equal(net.status, 1);
    assert.match(net.stderr, /waiting for a reviewer; when approved, run again with --approval apr_[0-9a-f]+/);
  });

  test('a malformed request is refused before the policy: 400 naming the problem', async () => {
    for (const [body, problem] of [
      [{ language: 'binary', code: 'not base64 bytes' }, /text languages send `code`, a binary sends `code_base64`/],
      [{ language: 'python', code: 'x', files: [{ path: '../escape', content: 'x' }] }, /invalid execution/],
      [{ language: 'cobol', code: 'x' }, /language/],
    ] as const) {
      const res = await execute(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(((await res.json()) as { error: { message: string } }).error.message, problem);
    }
  });
});
