import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isObject, toJSON, type RObject, type Value } from '../src/value.js';
import { call } from './builtins-b-helpers.js';
import { INTERMEDIATE_PEM, LEAF_CSR_PEM, LEAF_KEY_PEM, LEAF_PEM, ROOT_KEY_PEM, ROOT_PEM } from './builtins-b-pki.js';

const get = (v: Value | undefined, ...path: string[]): unknown => {
  let cur = v;
  for (const p of path) cur = (cur as RObject).get(p);
  return toJSON(cur as Value);
};
// 2030-01-01T00:00:00Z, inside the test PKI's validity
const IN_VALIDITY_NS = 1893456000000000000n;

test('digests and HMACs are hex over UTF-8', () => {
  assert.equal(call('crypto.md5', ['']), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal(call('crypto.sha1', ['abc']), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(call('crypto.sha256', ['abc']), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // RFC 4231 test case 2
  assert.equal(call('crypto.hmac.sha256', ['what do ya want for nothing?', 'Jefe']),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(call('crypto.hmac.equal', ['abc', 'abc']), true);
  assert.equal(call('crypto.hmac.equal', ['abc', 'abd']), false);
  assert.equal(call('crypto.hmac.equal', ['abc', 'ab']), false);
});

test('crypto.x509.parse_certificates: PEM, base64 PEM and base64 DER in Go field names', () => {
  const chain = LEAF_PEM + INTERMEDIATE_PEM + ROOT_PEM;
  const certs = call('crypto.x509.parse_certificates', [chain]) as Value[];
  assert.deepEqual(certs.map((c) => get(c, 'Subject', 'CommonName')), ['leaf.test', 'Test Intermediate CA', 'Test Root CA']);
  const leaf = certs[0]!;
  assert.deepEqual(get(leaf, 'DNSNames'), ['leaf.test']);
  assert.deepEqual(get(leaf, 'URIStrings'), ['spiffe://example.com/leaf']);
  assert.deepEqual(get(leaf, 'IPAddresses'), ['10.1.2.3']);
  assert.deepEqual(get(leaf, 'EmailAddresses'), ['ops@leaf.test']);
  assert.deepEqual(get(leaf, 'Subject', 'Country'), ['US']);
  assert.deepEqual(get(leaf, 'ExtKeyUsage'), [1]);
  assert.equal(get(leaf, 'KeyUsage'), 5);
  assert.equal(get(leaf, 'PublicKeyAlgorithm'), 1);
  assert.equal(get(leaf, 'SignatureAlgorithm'), 10);
  assert.equal(get(leaf, 'NotBefore'), '2026-11-29T19:47:38Z');
  assert.equal(get(leaf, 'SerialNumber'), 0x4451f7e5edeceb405bc69a0b80cb905509063a92n);
  assert.equal(get(certs[1], 'IsCA'), true);
  assert.equal(get(certs[1], 'MaxPathLen'), 0);
  const b64 = Buffer.from(LEAF_PEM).toString('base64');
  assert.equal(get((call('crypto.x509.parse_certificates', [b64]) as Value[])[0], 'Subject', 'CommonName'), 'leaf.test');
  const der = LEAF_PEM.replace(/-----[A-Z ]+-----|\s/g, '');
  assert.equal(get((call('crypto.x509.parse_certificates', [der]) as Value[])[0], 'Raw'), der);
  assert.throws(() => call('crypto.x509.parse_certificates', ['YmFkc3RyaW5n']), /x509: malformed certificate/);
  assert.throws(() => call('crypto.x509.parse_certificates', ['foobar']), /illegal base64 data at input byte 4/);
  assert.throws(() => call('crypto.x509.parse_certificates', [LEAF_KEY_PEM]), /PEM block type is 'PRIVATE KEY', expected CERTIFICATE/);
});

test('crypto.x509.parse_and_verify_certificates(_with_options) checks the chain root-first', () => {
  const good = ROOT_PEM + INTERMEDIATE_PEM + LEAF_PEM;
  const opts = (o: Record<string, unknown>) => call('crypto.x509.parse_and_verify_certificates_with_options', [good, { CurrentTime: IN_VALIDITY_NS, ...o }]);
  const ok = opts({}) as Value[];
  assert.equal(ok[0], true);
  assert.deepEqual((ok[1] as Value[]).map((c) => get(c, 'Subject', 'CommonName')), ['leaf.test', 'Test Intermediate CA', 'Test Root CA']);
  assert.equal((opts({ DNSName: 'leaf.test' }) as Value[])[0], true);
  assert.equal((opts({ DNSName: 'other.test' }) as Value[])[0], false);
  assert.equal((opts({ KeyUsages: ['KeyUsageClientAuth'] }) as Value[])[0], false);
  assert.equal((opts({ KeyUsages: ['KeyUsageAny'] }) as Value[])[0], true);
  assert.equal((opts({ CurrentTime: 0 }) as Value[])[0], false);
  assert.throws(() => opts({ KeyUsages: ['Nope'] }), /invalid entries for 'KeyUsages' found: \[Nope\]/);
  assert.throws(() => opts({ Bogus: 1 }), /invalid key option/);
  // wrong order, missing intermediate, single cert: not verified
  assert.deepEqual(toJSON(call('crypto.x509.parse_and_verify_certificates', [LEAF_PEM + INTERMEDIATE_PEM + ROOT_PEM])!), [false, []]);
  assert.deepEqual(toJSON(call('crypto.x509.parse_and_verify_certificates', [ROOT_PEM + LEAF_PEM])!), [false, []]);
  assert.deepEqual(toJSON(call('crypto.x509.parse_and_verify_certificates', [ROOT_PEM])!), [false, []]);
});

test('certificate requests, key pairs and private keys', () => {
  const csr = call('crypto.x509.parse_certificate_request', [LEAF_CSR_PEM]);
  assert.equal(get(csr, 'Subject', 'CommonName'), 'leaf.test');
  assert.deepEqual(get(csr, 'DNSNames'), ['leaf.test']);
  assert.throws(() => call('crypto.x509.parse_certificate_request', ['YmFkc3RyaW5n']), /asn1: structure error/);

  const pair = call('crypto.x509.parse_keypair', [LEAF_PEM, LEAF_KEY_PEM]) as RObject;
  assert.equal(get(pair, 'Leaf', 'Subject', 'CommonName'), 'leaf.test');
  assert.equal((get(pair, 'Certificate') as string[]).length, 1);
  assert.throws(() => call('crypto.x509.parse_keypair', [LEAF_PEM, ROOT_KEY_PEM]), /private key does not match public key/);

  const keys = call('crypto.parse_private_keys', [LEAF_KEY_PEM + ROOT_KEY_PEM]) as Value[];
  assert.equal(keys.length, 2);
  assert.ok(isObject(keys[0]!) && typeof get(keys[0], 'E') !== 'undefined');
  assert.deepEqual(call('crypto.parse_private_keys', ['nope']), []);
  assert.equal(call('crypto.parse_private_keys', ['']), null);

  const jwk = call('crypto.x509.parse_rsa_private_key', [LEAF_KEY_PEM]) as RObject;
  assert.equal(jwk.get('kty'), 'RSA');
  assert.equal(jwk.get('e'), 'AQAB');
  assert.throws(() => call('crypto.x509.parse_rsa_private_key', ['invalid']), /illegal base64/);
});
