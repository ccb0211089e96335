import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { fromJSON, toJSON, type Value } from '../src/value.js';
import { call, ctx } from './builtins-b-helpers.js';

const jwk = (k: KeyObject, extra: Record<string, string> = {}) => ({ ...(k.export({ format: 'jwk' }) as object), ...extra });
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;
const NOW_NS = 1_700_000_000_000_000_000n; // the helper context's now() is close to this

const ALGS: [string, () => { publicKey: KeyObject; privateKey: KeyObject }][] = [
  ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['PS384', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ['ES512', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
  ['EdDSA', () => generateKeyPairSync('ed25519')],
];

function sign(alg: string, priv: object, claims: Record<string, unknown> = { sub: 'alice' }): string {
  return call('io.jwt.encode_sign', [{ alg, typ: 'JWT' }, claims, priv]) as string;
}

for (const [alg, gen] of ALGS) {
  test(`io.jwt.encode_sign / verify_${alg.toLowerCase()} round trip with PEM and JWK keys`, () => {
    const { publicKey, privateKey } = gen();
    const token = sign(alg, jwk(privateKey));
    const verify = `io.jwt.verify_${alg.toLowerCase()}`;
    assert.equal(call(verify, [token, pem(publicKey)]), true);
    assert.equal(call(verify, [token, JSON.stringify(jwk(publicKey))]), true);
    assert.equal(call(verify, [token, JSON.stringify({ keys: [jwk(publicKey, { kid: 'k1' })] })]), true);
    const other = gen().publicKey;
    assert.equal(call(verify, [token, pem(other)]), false);
    const tampered = token.replace(/\.[^.]+\./, `.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.`);
    assert.equal(call(verify, [tampered, pem(publicKey)]), false);
  });
}

test('HS256: RFC 7515 A.1 token, and HMAC verification', () => {
  const key = { kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' };
  const token = call('io.jwt.encode_sign', [{ alg: 'HS256', typ: 'JWT' }, {}, key]);
  assert.equal(token, 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.6cvao8lnOu6FAdK68jQFcDMXOmaWNwWiYhCgijd-AD8');
  const t2 = call('io.jwt.encode_sign_raw', ['{"alg":"HS256"}', '{"a":1}', JSON.stringify({ kty: 'oct', k: Buffer.from('secret').toString('base64url') })]) as string;
  assert.equal(call('io.jwt.verify_hs256', [t2, 'secret']), true);
  assert.equal(call('io.jwt.verify_hs256', [t2, 'wrong']), false);
  assert.throws(() => call('io.jwt.encode_sign_raw', ['{}', '{}', JSON.stringify(key)]), /unsupported signature algorithm/);
  assert.throws(() => call('io.jwt.encode_sign_raw', ['{"alg":"dummy"}', '{}', JSON.stringify(key)]), /unknown signature algorithm/);
  assert.throws(() => call('io.jwt.encode_sign_raw', ['{"typ":"JWT","alg":"HS256"}', 'e', JSON.stringify(key)]), /type is JWT but payload is not JSON/);
  assert.throws(() => call('io.jwt.encode_sign_raw', ['', '{}', JSON.stringify(key)]), /unexpected end of JSON input/);
});

test('io.jwt.decode returns header, claims and hex signature; rejects malformed tokens', () => {
  const out = toJSON(call('io.jwt.decode', ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwIiwiaXNzIjoib3BhIn0.XmVoLoHI3pxMtMO_WRONMSJzGUDP9pDjy8Jp0_tdRXY'])!);
  assert.deepEqual(out, [{ alg: 'HS256', typ: 'JWT' }, { iss: 'opa', sub: '0' }, '5e65682e81c8de9c4cb4c3bf59138d3122731940cff690e3cbc269d3fb5d4576']);
  assert.throws(() => call('io.jwt.decode', ['abc']), /encoded JWT had no period separators/);
  assert.throws(() => call('io.jwt.decode', ['a.b']), /encoded JWT must have 3 sections, found 2/);
  assert.throws(() => call('io.jwt.decode', ['eyJhbGciOiJIUzI1NiJ9?.e30.']), /JWT header had invalid encoding: illegal base64/);
  const jwe = `${Buffer.from('{"alg":"RSA-OAEP","enc":"A256GCM"}').toString('base64url')}.e30.`;
  assert.throws(() => call('io.jwt.decode', [jwe]), /JWT is a JWE object, which is not supported/);
});

test('io.jwt.decode_verify checks signature, alg, iss, aud, exp and nbf', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = pem(publicKey);
  const nowS = Number(NOW_NS / 1_000_000_000n);
  const token = sign('ES256', jwk(privateKey), { iss: 'idp', aud: ['api', 'web'], exp: nowS + 60, nbf: nowS - 60 });
  const dv = (constraints: Record<string, unknown>, t = token) =>
    toJSON(call('io.jwt.decode_verify', [t, fromJSON(constraints)], ctx({ now: () => NOW_NS }))!) as [boolean, unknown, unknown];
  // a token with an audience needs an aud constraint (as in OPA)
  assert.equal(dv({ cert })[0], false);
  const [valid, header, claims] = dv({ cert, aud: 'web' });
  assert.equal(valid, true);
  assert.deepEqual(header, { alg: 'ES256', typ: 'JWT' });
  assert.equal((claims as { iss: string }).iss, 'idp');
  assert.equal(dv({ cert, alg: 'ES256', iss: 'idp', aud: 'api' })[0], true);
  assert.equal(dv({ cert, aud: 'api', alg: 'RS256' })[0], false);
  assert.equal(dv({ cert, aud: 'api', iss: 'other' })[0], false);
  assert.equal(dv({ cert, aud: 'other' })[0], false);
  assert.equal(dv({ cert, aud: 'api', time: Number((NOW_NS + 120_000_000_000n)) })[0], false, 'expired');
  assert.equal(dv({ cert, aud: 'api', time: Number((NOW_NS - 120_000_000_000n)) })[0], false, 'not yet valid');
  assert.equal(dv({ cert: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), aud: 'api' })[0], false);
  const noAud = sign('ES256', jwk(privateKey), { sub: 'x' });
  assert.equal(dv({ cert, aud: 'api' }, noAud)[0], false);
  assert.throws(() => dv({}), /no key constraint/);
  assert.throws(() => dv({ cert, secret: 's' }), /duplicate key constraints/);
  assert.throws(() => dv({ cert, bogus: 1 }), /unknown token validation constraint: bogus/);
  assert.throws(() => dv({ cert: '-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n' }), /failed to extract a Key from the PEM certificate/);
  assert.throws(() => dv({ cert: '{"kty": "nope"}' }), /failed to parse a JWK key \(set\)/);
});

test('io.jwt.decode_verify prefers the JWKS key whose kid matches the header', () => {
  const a = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const b = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const token = call('io.jwt.encode_sign', [{ alg: 'RS256', kid: 'b' }, { sub: 'x' }, jwk(b.privateKey)]) as string;
  const jwks = JSON.stringify({ keys: [jwk(a.publicKey, { kid: 'a', alg: 'RS256' }), jwk(b.publicKey, { kid: 'b', alg: 'RS256' })] });
  const out = toJSON(call('io.jwt.decode_verify', [token, fromJSON({ cert: jwks })])!) as Value[];
  assert.equal(out[0], true);
});

test('deeply nested JSON in a token is rejected cleanly', () => {
  const header = Buffer.from('['.repeat(100000)).toString('base64url');
  assert.throws(() => call('io.jwt.decode', [`${header}.e30.`]), /bad JWT header: invalid JSON: exceeded max depth/);
});
