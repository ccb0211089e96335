import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuthenticator, hashApiKey } from '../src/auth/agents.js';
import { JwtConfig } from '../src/config/schema.js';

const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const dir = mkdtempSync(join(tmpdir(), 'gk-auth-'));
const jwks = join(dir, 'jwks.json');
writeFileSync(
  jwks,
  JSON.stringify({ keys: [{ ...es.publicKey.export({ format: 'jwk' }), kid: 'es' }, { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed' }] }),
);

function jwt(claims: Record<string, unknown>, key: KeyObject = es.privateKey, kid = 'es', alg = 'ES256'): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const data = `${b64({ alg, kid, typ: 'JWT' })}.${b64(claims)}`;
  const sig = alg === 'EdDSA' ? sign(null, Buffer.from(data), key) : sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
  return `${data}.${sig.toString('base64url')}`;
}

const now = Math.floor(Date.now() / 1000);
const good = { iss: 'https://idp.acme.example', aud: 'gatekeeper', sub: 'buyer', exp: now + 300 };
const auth = createAuthenticator({
  agents: [
    { id: 'buyer', owner: 'dana', team: 'supply-chain', labels: { tier: 'prod' }, api_keys: [hashApiKey('k-buyer')] },
    { id: 'planner', team: 'supply-chain', labels: {}, api_keys: [] },
  ],
  auth: { jwt: JwtConfig.parse({ issuer: 'https://idp.acme.example', audience: 'gatekeeper', jwks_file: jwks }) },
});
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test('API key: matched by its sha256, identity from configuration', async () => {
  const r = await auth.authenticate({ 'x-api-key': 'k-buyer', 'oagf-delegated-by': 'planner' });
  assert.deepEqual(r, {
    ok: true,
    agent: { id: 'buyer', owner: 'dana', team: 'supply-chain', labels: { tier: 'prod' }, delegation: [{ agent: 'planner', team: 'supply-chain' }] },
  });
  assert.equal((await auth.authenticate(bearer('k-wrong'))).ok, false);
  assert.equal((await auth.authenticate({})).ok, false);
});

test('JWT (ES256 and EdDSA) from the configured issuer names a configured agent; act claim is the delegation chain', async () => {
  const r = await auth.authenticate(bearer(jwt({ ...good, act: { sub: 'planner' } })));
  assert.ok(r.ok);
  assert.equal(r.agent.id, 'buyer');
  assert.deepEqual(r.agent.delegation.map((d) => d.agent), ['planner']);
  const e = await auth.authenticate(bearer(jwt(good, ed.privateKey, 'ed', 'EdDSA')));
  assert.ok(e.ok);
});

test('JWT refusals: bad signature, expired, wrong issuer or audience, unknown agent, unaccepted algorithm', async () => {
  const cases: [string, string, RegExp][] = [
    ['bad signature', jwt(good).replace(/\.[^.]+$/, `.${Buffer.alloc(64).toString('base64url')}`), /signature/],
    ['expired', jwt({ ...good, exp: now - 3600 }), /expired/],
    ['issuer', jwt({ ...good, iss: 'https://evil.example' }), /issuer/],
    ['audience', jwt({ ...good, aud: 'other' }), /audience/],
    ['unknown agent', jwt({ ...good, sub: 'mallory' }), /mallory.*not configured/],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.x`, /algorithm none/],
    ['unknown kid', jwt(good, es.privateKey, 'zz'), /kid zz/],
  ];
  for (const [name, token, reason] of cases) {
    const r = await auth.authenticate(bearer(token));
    assert.equal(r.ok, false, name);
    assert.match((r as { reason: string }).reason, reason, name);
  }
});

test('JWKS from a URL: fetched once, refetched when a rotated key id appears after the cooldown', async () => {
  const { createServer } = await import('node:http');
  const { JwtVerifier } = await import('../src/auth/jwt.js');
  const rotated = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let keys = [{ ...es.publicKey.export({ format: 'jwk' }), kid: 'es' }];
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/jwks.json`;
    const verifier = new JwtVerifier(JwtConfig.parse({ issuer: good.iss, jwks_url: url }), { cooldownMs: 300 });
    assert.equal((await verifier.verify(jwt(good))).sub, 'buyer');
    await verifier.verify(jwt(good));
    assert.equal(fetches, 1, 'cached');
    keys = [...keys, { ...rotated.publicKey.export({ format: 'jwk' }), kid: 'r2' }];
    await assert.rejects(verifier.verify(jwt(good, rotated.privateKey, 'r2')), /kid r2/, 'no refetch storm within the cooldown');
    await new Promise((r) => setTimeout(r, 350));
    assert.equal((await verifier.verify(jwt(good, rotated.privateKey, 'r2'))).sub, 'buyer');
    assert.equal(fetches, 2);
  } finally {
    server.close();
  }
});
