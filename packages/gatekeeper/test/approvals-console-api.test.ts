/** The console over plain HTTP: sign-in, cookies, cross-site refusal, escaping of agent-supplied text, the JSON API. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { GatekeeperConfig } from '../src/config/schema.js';
import { staticSource } from '../src/policy/engine.js';
import { buildServer, type Gatekeeper } from '../src/server.js';
import { approvalsModule } from '../src/approvals/module.js';
import { hashPassword } from '../src/approvals/accounts.js';
import type { ApprovalService } from '../src/approvals/service.js';
import { MemoryLedger, orderAttempt } from './approvals-fixtures.js';

let gk: Gatekeeper;
let url: string;
let service: ApprovalService;
let dir: string;
let approvalId: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gk-console-api-'));
  const password_hash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
  const config = GatekeeperConfig.parse({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { listen: { host: '127.0.0.1', port: 0 } },
    policy: { bundle: 'unused' },
    ledger: { path: 'unused', signing_key_file: 'unused' },
    approvals: {
      database: join(dir, 'approvals.db'),
      signing_key_file: join(dir, 'approval.pem'),
      accounts: [
        { username: 'rita', password_hash, roles: ['reviewer'] },
        { username: 'audrey', password_hash, roles: ['auditor'] },
      ],
    },
  });
  const ledger = new MemoryLedger();
  gk = await buildServer(
    { config, file: join(dir, 'gatekeeper.yaml'), dir },
    {
      log: ledger,
      policy: staticSource({
        digest: 'sha256:test',
        evaluate: () => ({ value: { outcome: 'escalate', reasons: ['<script>alert("pwned")</script> over the limit'] }, explanation: [] }),
      }),
      modules: [approvalsModule({ ledger, onReady: (s) => (service = s) })],
      logger: pino({ level: 'silent' }),
    },
  );
  url = await gk.listen();
  const outcome = await gk.gate.decide({ ...orderAttempt(2000), surface: 'decision' });
  approvalId = outcome.approval!.id;
});

after(async () => {
  await gk.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(user: string, password = 'pw') {
  return fetch(`${url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, password, next: '/console/history' }),
  });
}

test('pages need a session; sign-in sets an HttpOnly SameSite=Strict cookie; wrong passwords are refused', async () => {
  const anon = await fetch(`${url}/console`, { redirect: 'manual' });
  assert.equal(anon.status, 303);
  assert.equal(anon.headers.get('location'), '/console/login?next=%2Fconsole');
  assert.equal((await signIn('rita', 'nope')).status, 401);
  assert.equal((await signIn('nobody')).status, 401);
  const ok = await signIn('rita');
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), '/console/history');
  assert.match(ok.headers.get('set-cookie')!, /^gk_console=[A-Za-z0-9_-]{43}; Path=\/console; HttpOnly; SameSite=Strict/);
});

test('the sign-in page is not an open redirect', async () => {
  const res = await fetch(`${url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'rita', password: 'pw', next: '//evil.example/' }),
  });
  assert.equal(res.headers.get('location'), '/console');
});

test('agent- and policy-supplied text is escaped in the page', async () => {
  const cookie = (await signIn('rita')).headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${url}/console/requests/${approvalId}`, { headers: { cookie } })).text();
  assert.ok(!page.includes('<script>alert'), 'no live script from the policy reason');
  assert.match(page, /&lt;script&gt;alert\(&quot;pwned&quot;\)&lt;\/script&gt; over the limit/);
});

test('a cross-site decision is refused; the JSON API wants credentials; an auditor cannot decide', async () => {
  const cookie = (await signIn('rita')).headers.get('set-cookie')!.split(';')[0]!;
  const cross = await fetch(`${url}/console/requests/${approvalId}/decision`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'verdict=approve',
  });
  assert.equal(cross.status, 403);
  assert.equal((await service.get(approvalId))!.status, 'pending');

  const anon = await fetch(`${url}/console/api/approvals`);
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate')!, /^Basic/);

  const basic = (u: string) => ({ authorization: `Basic ${Buffer.from(`${u}:pw`).toString('base64')}` });
  const auditor = await fetch(`${url}/console/api/approvals/${approvalId}/decision`, {
    method: 'POST',
    headers: { ...basic('audrey'), 'content-type': 'application/json' },
    body: JSON.stringify({ verdict: 'approve' }),
  });
  assert.equal(auditor.status, 403);
  assert.equal(((await auditor.json()) as { error: { type: string } }).error.type, 'forbidden');

  const listed = (await (await fetch(`${url}/console/api/approvals?status=pending`, { headers: basic('audrey') })).json()) as { approvals: { id: string }[] };
  assert.deepEqual(listed.approvals.map((a) => a.id), [approvalId]);

  const approve = await fetch(`${url}/console/api/approvals/${approvalId}/decision`, {
    method: 'POST',
    headers: { ...basic('rita'), 'content-type': 'application/json' },
    body: JSON.stringify({ verdict: 'approve', comment: 'ok' }),
  });
  assert.equal(approve.status, 200);
  const again = await fetch(`${url}/console/api/approvals/${approvalId}/decision`, {
    method: 'POST',
    headers: { ...basic('rita'), 'content-type': 'application/json' },
    body: JSON.stringify({ verdict: 'reject' }),
  });
  assert.equal(again.status, 409);
});

test('/metrics (on the separate admin address) counts pending approvals and verdicts', async () => {
  assert.equal((await fetch(`${url}/metrics`)).status, 404, 'not on the agents\' address');
  const text = await (await fetch(`${gk.adminUrl}/metrics`)).text();
  assert.match(text, /^gatekeeper_approvals_pending 0$/m);
  assert.match(text, /^gatekeeper_approval_verdicts_total\{status="approved"\} 1$/m);
});
