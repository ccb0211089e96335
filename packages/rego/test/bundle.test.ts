import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  buildBundle, BundlePoller, compileBundle, readBundle, SIGNING_ALGORITHMS, type Bundle, type BundleStatus, type Policy,
} from '../src/index.js';

const policy = (allowed: string) => `package authz\n\nallow if input.user == "${allowed}"\n`;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const keys = { release: { key: rsa.publicKey, algorithm: 'RS256' } };

function signed(revision: string, allowed: string): Buffer {
  return buildBundle({ revision, modules: { 'authz/policy.rego': policy(allowed) }, data: { teams: { a: ['alice'] } }, signing: { key: rsa.privateKey, algorithm: 'RS256', keyId: 'release' } });
}

/** Replaces one file's bytes inside a tar.gz without touching the signature (a tampered bundle). */
function tamper(tgz: Buffer, from: string, to: string): Buffer {
  const tar = gunzipSync(tgz);
  const i = tar.indexOf(from);
  assert.ok(i > 0 && from.length === to.length);
  tar.write(to, i);
  return gzipSync(tar);
}

const decide = (p: Policy, user: string) => p.prepare('data.authz.allow').eval({ input: { user } }).results[0]?.expressions[0].value;

test('a built bundle reads back, verifies and compiles; its layout is OPA\'s', () => {
  const b = readBundle(signed('v1', 'alice'), { verification: { keys } });
  assert.equal(b.manifest.revision, 'v1');
  assert.deepEqual(b.modules.map((m) => m.path), ['/authz/policy.rego']);
  assert.deepEqual(b.data, { teams: { a: ['alice'] } });
  assert.equal(decide(compileBundle(b), 'alice'), true);
  const names = gunzipSync(signed('v1', 'alice')).toString('latin1').match(/[\w./-]+(?=\0)/g) ?? [];
  for (const f of ['/data.json', '/authz/policy.rego', '/.manifest', '/.signatures.json']) assert.ok(names.includes(f), f);
});

test('every signing algorithm OPA supports signs and verifies; a wrong key or algorithm is refused', () => {
  const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const ed = generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const pairs: Record<string, { privateKey: string; publicKey: string }> = {
    RS: rsa, PS: rsa, ES256: ec('prime256v1'), ES384: ec('secp384r1'), ES512: ec('secp521r1'), EdDSA: ed, HS: { privateKey: 'shared-secret', publicKey: 'shared-secret' },
  };
  for (const alg of SIGNING_ALGORITHMS) {
    const k = pairs[alg] ?? pairs[alg.slice(0, 2)];
    const tgz = buildBundle({ modules: { 'p.rego': 'package p\nx := 1\n' }, signing: { key: k.privateKey, algorithm: alg, keyId: 'k' } });
    assert.equal(readBundle(tgz, { verification: { keys: { k: { key: k.publicKey, algorithm: alg } } } }).modules.length, 1, alg);
  }
  const tgz = signed('v1', 'alice');
  const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  assert.throws(() => readBundle(tgz, { verification: { keys: { release: { key: other.publicKey, algorithm: 'RS256' } } } }), /failed to verify JWT signature/);
  assert.throws(() => readBundle(tgz, { verification: { keys: { release: { key: rsa.publicKey, algorithm: 'PS256' } } } }), /failed to verify JWT signature/);
  assert.throws(() => readBundle(tgz, { verification: { keys: { nope: keys.release } } }), /verification key corresponding to ID release not found/);
  assert.throws(() => readBundle(tgz), /verification key not provided/);
  assert.throws(() => readBundle(tgz, { verification: { keys, scope: 'write' } }), /scope mismatch/);
});

test('a tampered, an unsigned-when-required or an incomplete bundle is refused with OPA\'s messages', () => {
  assert.throws(() => readBundle(tamper(signed('v1', 'alice'), '== "alice"', '== "mallo"'), { verification: { keys } }), /authz\/policy\.rego: digest mismatch/);
  const unsigned = buildBundle({ modules: { 'authz/policy.rego': policy('alice') } });
  assert.throws(() => readBundle(unsigned, { verification: { keys, keyId: 'release' } }), /bundle missing \.signatures\.json file/);
  assert.throws(() => readBundle(Buffer.from('not a bundle')), /not a gzip archive/);
  assert.throws(() => readBundle(buildBundle({ modules: {}, data: { other: 1 }, roots: ['authz'] })), /manifest roots \[authz\] do not permit data at path \/other/);
});

test('bundles read from a directory, data files placed at their directory path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rego-bundle-dir-'));
  mkdirSync(join(dir, 'authz', 'teams'), { recursive: true });
  writeFileSync(join(dir, 'authz', 'policy.rego'), policy('bob'));
  writeFileSync(join(dir, 'authz', 'teams', 'data.json'), '{"a": ["bob"]}');
  writeFileSync(join(dir, '.manifest'), '{"revision": "dir-1", "roots": ["authz"]}');
  const b = readBundle(dir);
  assert.equal(b.manifest.revision, 'dir-1');
  assert.deepEqual(b.data, { authz: { teams: { a: ['bob'] } } });
  assert.equal(decide(compileBundle(b), 'bob'), true);
});

/** A bundle server in the spirit of OPA's: ETags, 304s, and long polling when asked with Prefer: wait. */
function bundleServer() {
  let current = { etag: '"1"', body: signed('v1', 'alice') };
  const waiting: (() => void)[] = [];
  const requests: { inm?: string; prefer?: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ inm: req.headers['if-none-match'], prefer: req.headers.prefer });
    const wait = /wait=(\d+)/.exec(req.headers.prefer ?? '')?.[1];
    const reply = () => {
      const headers: Record<string, string> = { etag: current.etag };
      if (wait) headers['content-type'] = 'application/vnd.openpolicyagent.bundles';
      if (req.headers['if-none-match'] === current.etag) { res.writeHead(304, headers); res.end(); return; }
      res.writeHead(200, { ...headers, 'content-type': headers['content-type'] ?? 'application/gzip' });
      res.end(current.body);
    };
    if (wait && req.headers['if-none-match'] === current.etag) {
      const t = setTimeout(reply, Number(wait) * 1000);
      waiting.push(() => { clearTimeout(t); reply(); });
    } else reply();
  });
  return {
    requests,
    publish(etag: string, body: Buffer) { current = { etag, body }; for (const w of waiting.splice(0)) w(); },
    listen: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/bundles/authz.tar.gz`))),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('the poller activates a bundle from a server, sends If-None-Match, refuses a tampered one and keeps the previous policy', async () => {
  const srv = bundleServer();
  const url = await srv.listen();
  let active: Policy | undefined;
  const statuses: BundleStatus[] = [];
  const poller = new BundlePoller({ url, name: 'authz', verification: { keys, keyId: 'release' }, minDelayMs: 20, maxDelayMs: 30, activate: (b: Bundle) => { active = compileBundle(b); }, onStatus: (s) => statuses.push(s) });
  try {
    const first = await poller.start();
    assert.equal(first.activeRevision, 'v1');
    assert.ok(poller.ready);
    assert.equal(decide(active!, 'alice'), true);
    await until(() => poller.status().metrics.notModified >= 1);
    assert.ok(srv.requests.some((r) => r.inm === '"1"'), 'later requests carry the ETag');

    srv.publish('"2"', tamper(signed('v2', 'bob__'), '"bob__"', '"eve__"'));
    await until(() => poller.status().code === 'bundle_error');
    assert.match(poller.status().message!, /digest mismatch/);
    assert.equal(poller.status().activeRevision, 'v1');
    assert.equal(decide(active!, 'alice'), true, 'the previous policy stays active');

    srv.publish('"3"', signed('v3', 'bob'));
    await until(() => poller.status().activeRevision === 'v3');
    assert.equal(poller.status().code, undefined);
    assert.equal(decide(active!, 'bob'), true);
    assert.equal(decide(active!, 'alice'), undefined);

    // a bundle the host refuses (it does not compile) is not activated either
    srv.publish('"4"', buildBundle({ revision: 'v4', modules: { 'authz/policy.rego': 'package authz\nallow if {' }, signing: { key: rsa.privateKey, algorithm: 'RS256', keyId: 'release' } }));
    await until(() => poller.status().code === 'bundle_error');
    assert.match(poller.status().message!, /rego_parse_error/);
    assert.equal(poller.status().activeRevision, 'v3');
    assert.ok(statuses.length >= 4);
  } finally {
    poller.stop();
    await srv.close();
  }
});

test('the poller long-polls when the server supports it: a new bundle is activated as soon as it is published', async () => {
  const srv = bundleServer();
  const url = await srv.listen();
  const revisions: string[] = [];
  // a delay between polls far longer than the test: only long polling can deliver the update in time
  const poller = new BundlePoller({ url, verification: { keys }, longPollingTimeoutSeconds: 10, minDelayMs: 60_000, maxDelayMs: 60_000, activate: (b) => { revisions.push(b.manifest.revision); } });
  try {
    await poller.start();
    await until(() => srv.requests.length >= 2);
    assert.equal(srv.requests[1].prefer, 'wait=10');
    const t0 = Date.now();
    srv.publish('"2"', signed('v2', 'bob'));
    await until(() => revisions.includes('v2'), 3000);
    assert.ok(Date.now() - t0 < 3000);
    assert.deepEqual(revisions, ['v1', 'v2']);
  } finally {
    poller.stop();
    await srv.close();
  }
});

test('a failing server is reported in the status and retried; nothing is activated', async () => {
  const server = createServer((_req, res) => { res.writeHead(500); res.end(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/b.tar.gz`;
  const poller = new BundlePoller({ url, minDelayMs: 10, maxDelayMs: 10, activate: () => assert.fail('must not activate') });
  try {
    const s = await poller.start();
    assert.equal(s.code, 'bundle_error');
    assert.equal(s.httpCode, 500);
    assert.equal(poller.ready, false);
    await until(() => poller.status().metrics.failures >= 2);
  } finally {
    poller.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
