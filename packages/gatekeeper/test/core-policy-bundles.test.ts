/**
 * Policy from OPA bundles: built with the real `rego build` CLI, signed with an RSA key, served by a local
 * OPA-compatible bundle server (ETag / 304) or read from an archive on disk. Only a whole, verified, compiling bundle
 * becomes active; a tampered or unsigned one is refused and the previous policy keeps deciding; readiness, status
 * and metrics say so.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { KEYS, post, SETTINGS, startGatekeeper, STDLIB, type Fixture } from './core/fixture.js';

const REGO = fileURLToPath(new URL('../../rego/bin/rego.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'gk-bundles-'));
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const PRIVATE = join(work, 'release.pem');
const PUBLIC = join(work, 'release.pub.pem');
writeFileSync(PRIVATE, privateKey);
writeFileSync(PUBLIC, publicKey);
const VERIFICATION = { key_id: 'release', keys: { release: { algorithm: 'RS256', key_file: PUBLIC } } };
const POLLING = { min_delay_seconds: 0.02, max_delay_seconds: 0.05 };
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** The standard library with the buyer's escalation threshold at `escalateAbove`, built by `rego build`. */
function build(revision: string, escalateAbove: number, options: { sign?: boolean } = {}): Buffer {
  const dir = join(work, `settings-${revision}`);
  mkdirSync(dir, { recursive: true });
  const settings = structuredClone(SETTINGS);
  settings.config.agents.buyer.limits[0]!.escalate_above = escalateAbove;
  writeFileSync(join(dir, 'data.yaml'), stringify(settings));
  const out = join(work, `${revision}.tar.gz`);
  const signing = options.sign === false ? [] : ['--signing-key', PRIVATE, '--signing-alg', 'RS256', '--verification-key-id', 'release'];
  execFileSync(process.execPath, [REGO, 'build', '-o', out, '-r', revision, ...signing, STDLIB, dir], { stdio: 'pipe' });
  return readFileSync(out);
}

/** A signed bundle whose data was changed after signing (the signature still lists the old digests). */
function tamper(bundle: Buffer, name: string): Buffer {
  const dir = join(work, `tamper-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'in.tar.gz'), bundle);
  mkdirSync(join(dir, 'x'));
  execFileSync('tar', ['-xzf', join(dir, 'in.tar.gz'), '-C', join(dir, 'x')], { stdio: 'pipe' });
  const data = JSON.parse(readFileSync(join(dir, 'x', 'data.json'), 'utf8'));
  data.config.agents.buyer.limits[0].escalate_above = 99_000_000;
  writeFileSync(join(dir, 'x', 'data.json'), JSON.stringify(data));
  execFileSync('tar', ['-czf', join(dir, 'out.tar.gz'), '-C', join(dir, 'x'), '.'], { stdio: 'pipe' });
  return readFileSync(join(dir, 'out.tar.gz'));
}

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** An OPA-compatible bundle server: the current bytes at /bundles/oagf.tar.gz, ETag and 304 as OPA expects. */
async function startBundleServer(port = 0) {
  let current: Buffer | undefined;
  const requests: { ifNoneMatch?: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const etag = current ? `"${digestOf(current).slice(7, 23)}"` : undefined;
    const status = req.url !== '/bundles/oagf.tar.gz' || !current ? 404 : req.headers['if-none-match'] === etag ? 304 : 200;
    requests.push({ ...(req.headers['if-none-match'] ? { ifNoneMatch: String(req.headers['if-none-match']) } : {}), status });
    if (status !== 200) return void res.writeHead(status).end();
    res.writeHead(200, { 'content-type': 'application/gzip', etag: etag! }).end(current);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundles/oagf.tar.gz`,
    port: (server.address() as AddressInfo).port,
    requests,
    publish(bytes: Buffer) {
      current = bytes;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const readyz = async (fx: Fixture) => {
  const res = await fetch(`${fx.url}/readyz`);
  return { status: res.status, body: (await res.json()) as any };
};

/** The keynote order: escalated under a 1M threshold, allowed under a 3M one. */
const order = (fx: Fixture) => post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total: 2_400_000 } } }, KEYS.buyer);

const metric = async (fx: Fixture, name: string) => fx.gk.deps.metrics.registry.getSingleMetricAsString(name);

test('a signed bundle from a bundle server decides; tampered and unsigned ones are refused and the previous one stays; a new signed one activates', async () => {
  const server = await startBundleServer();
  const v1 = build('v1', 1_000_000);
  server.publish(v1);
  const fx = await startGatekeeper({ config: { policy: { bundle: server.url, verification: VERIFICATION, polling: POLLING } } });
  try {
    const ready = await readyz(fx);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.policy_digest, digestOf(v1), 'the digest is the archive sha256: sha256sum names the released artifact');
    assert.equal(ready.body.policy_bundle.activeRevision, 'v1');
    const first = await order(fx);
    assert.equal(first.body.decision.outcome, 'escalate');
    assert.equal(first.body.decision.policy_digest, digestOf(v1));
    await until('a conditional request', () => server.requests.find((r) => r.status === 304));
    assert.ok(server.requests.filter((r) => r.status === 304).every((r) => r.ifNoneMatch), 'asks with If-None-Match');

    server.publish(tamper(v1, 'v1'));
    const refused = await until('the tampered bundle refused', async () => ((await readyz(fx)).body.policy_bundle.code ? (await readyz(fx)).body : undefined));
    assert.match(refused.policy_bundle.message, /data\.json: digest mismatch/);
    assert.equal(refused.status, 'ready', 'the previous bundle keeps deciding, so the replica stays ready');
    assert.equal(refused.policy_digest, digestOf(v1));
    assert.equal((await order(fx)).body.decision.outcome, 'escalate', 'still decided under v1, not under the tampered limit');

    server.publish(build('v2-unsigned', 3_000_000, { sign: false }));
    await until('the unsigned bundle refused', async () => (/not signed|missing \.signatures\.json/.test((await readyz(fx)).body.policy_bundle.message ?? '') ? true : undefined));
    assert.equal((await order(fx)).body.decision.outcome, 'escalate');

    const v2 = build('v2', 3_000_000);
    server.publish(v2);
    await until('v2 active', async () => ((await readyz(fx)).body.policy_digest === digestOf(v2) ? true : undefined));
    const ready2 = await readyz(fx);
    assert.equal(ready2.body.policy_bundle.activeRevision, 'v2');
    assert.equal(ready2.body.policy_bundle.code, undefined, 'the error clears once a bundle activates');
    const second = await order(fx);
    assert.equal(second.body.decision.outcome, 'allow');
    assert.equal(second.body.decision.policy_digest, digestOf(v2));

    assert.match(await metric(fx, 'gatekeeper_policy_bundle_downloads_total'), /result="failed"\} [2-9]/);
    assert.match(await metric(fx, 'gatekeeper_policy_bundle_downloads_total'), /result="not_modified"\} \d+/);
    assert.match(await metric(fx, 'gatekeeper_policy_reloads_total'), /result="loaded"\} 2/);
    assert.match(await metric(fx, 'gatekeeper_policy_reloads_total'), /result="rejected"\} [2-9]/);
  } finally {
    await fx.close();
    await server.close();
  }
});

test('a bundle server that is down at start: not ready and every action denied until the first bundle activates', async () => {
  const probe = await startBundleServer();
  const { port } = probe;
  await probe.close();
  const url = `http://127.0.0.1:${port}/bundles/oagf.tar.gz`;
  const fx = await startGatekeeper({ config: { policy: { bundle: url, verification: VERIFICATION, polling: POLLING } } });
  let server: Awaited<ReturnType<typeof startBundleServer>> | undefined;
  try {
    const down = await readyz(fx);
    assert.equal(down.status, 503);
    assert.match(down.body.problems[0], new RegExp(`no policy bundle has been activated from ${url.replace(/[.]/g, '\\.')}`));
    const denied = await order(fx);
    assert.equal(denied.body.decision.outcome, 'deny');
    assert.equal(denied.body.decision.fault.code, 'no_policy');
    const record = await fx.gk.deps.ledger!.getRecord(denied.body.index);
    assert.equal(record!.id, denied.body.record_id, 'the denial is in the ledger, without a policy digest');
    assert.equal(record!.policy_digest, undefined);

    server = await startBundleServer(port);
    const v1 = build('v1-late', 1_000_000);
    server.publish(v1);
    await until('ready', async () => ((await readyz(fx)).status === 200 ? true : undefined));
    assert.equal((await order(fx)).body.decision.outcome, 'escalate');
  } finally {
    await fx.close();
    await server?.close();
  }
});

test('a bundle archive on disk: verified at start, replaced by a rename and reloaded; a tampered replacement keeps the previous one', async () => {
  const v1 = build('file-v1', 1_000_000);
  const fx = await startGatekeeper({ config: { policy: { bundle: './bundle.tar.gz', verification: VERIFICATION, debounce_ms: 20 } } }).catch((err) => err as Error);
  // the fixture writes its config before the archive exists: the start fails, naming the file
  assert.ok(fx instanceof Error);
  assert.match(fx.message, /cannot read policy bundle .*bundle\.tar\.gz/);

  const dir = mkdtempSync(join(tmpdir(), 'gk-archive-'));
  writeFileSync(join(dir, 'bundle.tar.gz'), v1);
  const started = await startGatekeeper({ config: { policy: { bundle: join(dir, 'bundle.tar.gz'), verification: VERIFICATION, debounce_ms: 20 } } });
  try {
    assert.equal((await readyz(started)).body.policy_digest, digestOf(v1));
    assert.equal((await order(started)).body.decision.outcome, 'escalate');

    const replace = (bytes: Buffer) => {
      writeFileSync(join(dir, 'next.tar.gz'), bytes);
      renameSync(join(dir, 'next.tar.gz'), join(dir, 'bundle.tar.gz'));
    };
    replace(tamper(v1, 'file'));
    await until('the tampered archive rejected', async () => (/result="rejected"\} 1/.test(await metric(started, 'gatekeeper_policy_reloads_total')) ? true : undefined));
    assert.equal((await readyz(started)).body.policy_digest, digestOf(v1));

    const v2 = build('file-v2', 3_000_000);
    replace(v2);
    await until('v2 active', async () => ((await readyz(started)).body.policy_digest === digestOf(v2) ? true : undefined));
    assert.equal((await order(started)).body.decision.outcome, 'allow');
  } finally {
    await started.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bundle settings that cannot work are refused at start, naming the setting', () => {
  const base = { listen: '127.0.0.1:0', agents: [], ledger: { path: ':memory:', signing_key_file: 'k' } };
  const problems = (policy: unknown) => {
    try {
      parseConfig(stringify({ ...base, policy }), join(work, 'gatekeeper.yaml'));
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.problems.map((p) => `${p.path}: ${p.message}`);
    }
  };
  assert.deepEqual(problems({ bundle: ['https://bundles.example.com/b.tar.gz', './policy'] }), ['policy.bundle: a bundle server URL must be the only bundle']);
  assert.deepEqual(problems({ bundle: './policy', credentials: { bearer: { env: 'TOKEN' } } }), ['policy.credentials: credentials are for a bundle server URL']);
  assert.deepEqual(problems({ bundle: 'https://b.example.com/b.tar.gz', verification: { key_id: 'other', keys: { release: { algorithm: 'RS256', key_file: 'k.pem' } } } }), ['policy.verification.key_id: key_id names no key in keys']);
  assert.deepEqual(problems({ bundle: 'https://b.example.com/b.tar.gz', verification: { keys: { release: { algorithm: 'RS256' } } } }), ['policy.verification.keys.release: set exactly one of key_file or key_env']);
  assert.deepEqual(problems({ bundle: 'https://b.example.com/b.tar.gz', verification: { keys: { release: { algorithm: 'RS257', key_file: 'k.pem' } } } }).length, 1);
  const loaded = parseConfig(stringify({ ...base, policy: { bundle: 'https://b.example.com/b.tar.gz', verification: { keys: { release: { algorithm: 'RS256', key_file: 'k.pem' } } } } }), join(work, 'gatekeeper.yaml'));
  assert.equal(loaded.config.policy.bundle[0], 'https://b.example.com/b.tar.gz', 'a URL is not resolved as a path');
  assert.equal(loaded.config.policy.verification!.keys.release!.key_file, join(work, 'k.pem'), 'a key file is resolved against the config');
});

test('verification keys on a directory bundle are an error, not silently ignored', async () => {
  const err = await startGatekeeper({ config: { policy: { bundle: [STDLIB], verification: VERIFICATION } } }).catch((e) => e as Error);
  assert.ok(err instanceof Error);
  assert.match(err.message, /policy\.verification checks OPA bundle archives and bundle servers/);
});
