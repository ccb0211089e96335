/**
 * Issue 12, class 6: console sign-ins are throttled per account and per client address — exponential back-off,
 * lockout after N failures, logged, counted in /metrics, answered 429 with Retry-After, kept in the session store
 * (two gatekeepers on one store share it) — and a burst of wrong passwords does not hold up agent traffic: the
 * agent's chat completions keep flowing to the upstream (which receives every one of them) while the burst is
 * refused. The burst's effect on agent latency is measured and printed, not asserted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { hashApiKey } from '../src/auth/agents.js';
import { GatekeeperConfig } from '../src/config/schema.js';
import { approvalsModule } from '../src/approvals/module.js';
import { hashPassword } from '../src/approvals/accounts.js';
import { addressKey } from '../src/approvals/console/throttle.js';
import { buildServer, type Gatekeeper } from '../src/server.js';
import { AGENT_KEY, MemoryLog, allowAll, functionPolicy } from './support/openai-gatekeeper.js';
import { ScriptedUpstream, chatCompletion } from './support/scripted-upstream.js';

type Json = Record<string, unknown>;

interface World {
  gk: Gatekeeper;
  url: string;
  logs: Json[];
}

async function startWorld(dir: string, login: Json, opts: { upstreamUrl?: string; cost?: { N: number; r: number; p: number }; db?: string } = {}): Promise<World> {
  const password_hash = await hashPassword('right-password', opts.cost ?? { N: 1024, r: 8, p: 1 });
  const accounts = ['rita', 'omar', 'dana', 'kai', 'lee', 'zoe'].map((username) => ({ username, password_hash, roles: ['reviewer'] }));
  const config = GatekeeperConfig.parse({
    listen: { host: '127.0.0.1', port: 0 },
    agents: [{ id: 'planner', owner: 'alice', api_keys: [hashApiKey(AGENT_KEY)] }],
    ...(opts.upstreamUrl ? { llm: { upstreams: [{ name: 'scripted', base_url: `${opts.upstreamUrl}/v1`, api_key: { env: 'K' } }] } } : {}),
    policy: { bundle: 'unused' },
    ledger: { path: 'unused', signing_key_file: 'unused' },
    admin: { api_keys: [hashApiKey('admin-key')] },
    approvals: { database: opts.db ?? join(dir, `a-${Math.random()}.db`), signing_key_file: join(dir, 'k.pem'), accounts, console: { login } },
  });
  const logs: Json[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (logs.push(JSON.parse(String(c))), cb()) }));
  const log = new MemoryLog();
  const gk = await buildServer({ config, file: join(dir, 'g.yaml'), dir }, { log, policy: functionPolicy(allowAll), modules: [approvalsModule({ ledger: log })], env: { K: 'sk-upstream-x' }, logger });
  return { gk, url: await gk.listen(), logs };
}

const signIn = (url: string, username: string, password: string) =>
  fetch(`${url}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }) });
const basic = (url: string, username: string, password: string) =>
  fetch(`${url}/console/api/queue`, { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } });
const metric = async (url: string, line: RegExp) => {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer admin-key' } })).text();
  return Number(line.exec(text)?.[1] ?? 0);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `count` wrong passwords to the console in waves of `wave` (every 10 ms) from a child process; resolves to their statuses. */
function runGuesser(url: string, count: number, wave: number): Promise<number[]> {
  const script = `
    const [url, count, wave] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const names = ['rita', 'omar', 'dana', 'kai', 'lee', 'zoe'];
    const one = (i) => new Promise((resolve) => {
      const body = 'username=' + names[i % names.length] + '&password=guess-' + i;
      const req = http.request(url + '/console/login', { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      req.on('error', () => resolve(0));
      req.end(body);
    });
    (async () => {
      const all = [];
      for (let i = 0; i < count; i += wave) {
        for (let j = i; j < Math.min(count, i + wave); j++) all.push(one(j));
        await new Promise((r) => setTimeout(r, 10));
      }
      process.stdout.write(JSON.stringify(await Promise.all(all)));
      agent.destroy();
    })();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, url, String(count), String(wave)]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`guesser exited ${code}`))));
  });
}

describe('class 6: console sign-in throttling', () => {
  let dir: string;
  let w: World;
  const SETTINGS = { free_failures: 3, backoff_base_ms: 300, backoff_max_ms: 5000, lockout_after: 6, lockout_s: 60, address_free_failures: 30, address_lockout_after: 80, max_concurrent_verifications: 1, max_waiting_verifications: 2 };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gk-throttle-'));
    w = await startWorld(dir, SETTINGS);
  });
  after(async () => {
    await w.gk.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('after the free failures the next attempt waits, even with the right password: 429 with Retry-After, no password check', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await signIn(w.url, 'rita', `wrong-${i}`)).status, 401);
    const failuresBefore = await metric(w.url, /gatekeeper_console_logins_total\{result="failure"\} (\d+)/);
    const res = await signIn(w.url, 'rita', 'right-password');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.match(await res.text(), /Too many sign-in attempts: too many failed sign-ins from this account: try again in 1 s/);
    assert.equal(await metric(w.url, /gatekeeper_console_logins_total\{result="failure"\} (\d+)/), failuresBefore, 'the throttled attempt checked no password');
    assert.ok((await metric(w.url, /gatekeeper_console_logins_total\{result="throttled"\} (\d+)/)) >= 1);
    await sleep(350);
    const ok = await signIn(w.url, 'rita', 'right-password');
    assert.equal(ok.status, 303, 'after the back-off the right password signs in');
    for (let i = 0; i < 3; i++) assert.equal((await signIn(w.url, 'rita', `wrong-again-${i}`)).status, 401, 'a success cleared the count');
  });

  test('the back-off doubles with each further failure', async () => {
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await signIn(w.url, 'omar', `wrong-${i}`);
      if (res.status === 429) {
        waits.push(Number(res.headers.get('retry-after')));
        await sleep(Number(res.headers.get('retry-after')) * 1000 + 20);
      }
    }
    const res = await signIn(w.url, 'omar', 'wrong-last');
    // 3 free failures, then 300 ms, 600 ms: Retry-After (whole seconds, rounded up) never shrinks.
    assert.equal(res.status, 429);
    const wait = Number(res.headers.get('retry-after'));
    assert.ok(wait >= 1 && waits.every((x) => x <= wait), `waits ${waits} then ${wait}`);
  });

  test('the account locks after N failures — logged, counted — and its variants in case and width share the count', async () => {
    const variants = ['dana', 'DANA', 'ｄａｎａ', 'Dana', 'dAnA', 'ｄana'];
    for (const [i, name] of variants.entries()) {
      let res = await signIn(w.url, name, `wrong-${i}`);
      while (res.status === 429 && res.headers.get('retry-after') !== '60') {
        await sleep(Number(res.headers.get('retry-after')) * 1000 + 20);
        res = await signIn(w.url, name, `wrong-${i}`);
      }
      assert.equal(res.status, 401);
    }
    const locked = await signIn(w.url, 'dana', 'right-password');
    assert.equal(locked.status, 429);
    assert.equal(locked.headers.get('retry-after'), '60');
    assert.match(await locked.text(), /this account is locked for 60 s/);
    assert.ok(w.logs.some((l) => l.msg === 'console account locked after 6 failed sign-ins' && l.level === 40 && l.username === 'ｄana'));
    assert.ok(w.logs.some((l) => l.msg === 'console sign-in failed' && l.account_failures === 6));
    assert.equal(await metric(w.url, /gatekeeper_console_lockouts_total\{scope="account"\} (\d+)/), 1);
    assert.equal(await metric(w.url, /gatekeeper_console_logins_total\{result="locked"\} (\d+)/), 1);
  });

  test('HTTP Basic on the JSON API is throttled the same way (429 JSON error with Retry-After)', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await basic(w.url, 'kai', `wrong-${i}`)).status, 401);
    const res = await basic(w.url, 'kai', 'right-password');
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'too_many_requests');
  });

  test('unknown accounts are throttled like real ones (nothing to enumerate)', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await signIn(w.url, 'no-such-user', `x${i}`)).status, 401);
    assert.equal((await signIn(w.url, 'no-such-user', 'x')).status, 429);
  });

  test('a burst of simultaneous guesses is bounded: one check per account at a time, the rest refused at once', async () => {
    const count = (result: string) => metric(w.url, new RegExp(`gatekeeper_console_logins_total\\{result="${result}"\\} (\\d+)`));
    const before = { failure: await count('failure'), refused: (await count('busy')) + (await count('throttled')) };
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => signIn(w.url, 'lee', `burst-${i}`).then((r) => r.status)));
    assert.ok(statuses.filter((s) => s === 401).length <= 3, `statuses ${statuses}`);
    assert.ok(statuses.filter((s) => s === 429).length >= 9);
    // Whether a refusal is "busy" (a check in flight) or "throttled" (back-off) depends on timing; either way no more
    // than three passwords were checked and every other guess was refused without one.
    assert.ok((await count('failure')) - before.failure <= 3);
    assert.ok((await count('busy')) + (await count('throttled')) - before.refused >= 9);
  });

  test('per client address: failures across accounts throttle every account from that address', async () => {
    // Earlier tests left failures for this address; spread more over other names until the address is throttled.
    let res: Response | undefined;
    for (let i = 0; i < 60; i++) {
      res = await signIn(w.url, `sprayed-${i}`, 'guess');
      if (res.status === 429 && /from this address/.test(await res.clone().text())) break;
    }
    assert.equal(res!.status, 429);
    assert.match(await res!.text(), /too many failed sign-ins from this address/);
    assert.equal((await signIn(w.url, 'zoe', 'right-password')).status, 429, 'any account, from this address');
  });

  test('addresses: IPv4-mapped as IPv4, IPv6 by /64', () => {
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2::ffff:9'), '2001:db8:1:2::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
  });
});

describe('class 6: the counts live in the session store, shared by gatekeepers on one store', () => {
  test('failures on one gatekeeper throttle sign-ins on the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gk-throttle-shared-'));
    const db = join(dir, 'shared.db');
    const settings = { free_failures: 2, backoff_base_ms: 60_000, lockout_after: 5 };
    const a = await startWorld(dir, settings, { db });
    const b = await startWorld(dir, settings, { db });
    try {
      assert.equal((await signIn(a.url, 'rita', 'w1')).status, 401);
      assert.equal((await signIn(b.url, 'rita', 'w2')).status, 401);
      const res = await signIn(a.url, 'rita', 'right-password');
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '60');
    } finally {
      await a.gk.close();
      await b.gk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('class 6: a burst of wrong passwords and the agents’ traffic', () => {
  const upstream = new ScriptedUpstream();
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gk-throttle-burst-'));
    upstream.fallback = () => ({ json: chatCompletion({ content: 'ok' }) });
  });
  after(async () => {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function agentTraffic(url: string, count: number, concurrency: number): Promise<number[]> {
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          next++;
          const started = performance.now();
          const res = await fetch(`${url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
          });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
          latencies.push(performance.now() - started);
        }
      }),
    );
    return latencies.sort((x, y) => x - y);
  }
  const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);

  /** 300 wrong passwords in about 100 ms against real scrypt hashes, while the agent sends chat completions. */
  async function burst(name: string, login: Json): Promise<void> {
    const w = await startWorld(dir, login, { upstreamUrl: await upstreamUrl, cost: { N: 16384, r: 8, p: 1 } });
    try {
      await agentTraffic(w.url, 20, 4); // warm-up
      const received = upstream.received.length;
      const baseline = await agentTraffic(w.url, 150, 4);
      // The guesses come from another process, so the load generator does not share the gatekeeper's event loop.
      const guesses = runGuesser(w.url, 300, 30);
      const during = await agentTraffic(w.url, 150, 4);
      const answered = await guesses;
      const checks = await metric(w.url, /gatekeeper_console_logins_total\{result="failure"\} (\d+)/);
      assert.equal(upstream.received.length - received, 300, 'the upstream received every agent request');
      assert.equal(answered.length, 300);
      assert.ok(answered.every((s) => s === 401 || s === 429));
      console.log(
        `[login burst: ${name}] agent chat completions p50/p99 ms: baseline ${pct(baseline, 50)}/${pct(baseline, 99)}, ` +
          `during 300 wrong passwords ${pct(during, 50)}/${pct(during, 99)}; sign-ins answered 401: ${answered.filter((s) => s === 401).length}, ` +
          `429: ${answered.filter((s) => s === 429).length}; passwords actually checked: ${checks}`,
      );
    } finally {
      await w.gk.close();
    }
  }
  let upstreamUrl: Promise<string>;
  before(() => {
    upstreamUrl = upstream.start();
  });

  test('with the default throttle', () => burst('default settings', {}));
  test('with back-off and lockout out of reach: only the bound on concurrent checks holds', () =>
    burst('bound only', { free_failures: 10_000, lockout_after: 10_000, address_free_failures: 10_000, address_lockout_after: 10_000 }));
});
