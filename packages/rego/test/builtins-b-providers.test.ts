import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeObject, toJSON, type RObject } from '../src/value.js';
import { call, ctx } from './builtins-b-helpers.js';

const CONFIG = { aws_access_key: 'AKIDEXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', aws_service: 'iam', aws_region: 'us-east-1' };

test('providers.aws.sign_req matches the AWS SigV4 documentation example', () => {
  // AWS General Reference, "Create a signed AWS API request" (IAM ListUsers, 2015-08-30T12:36:00Z)
  const req = {
    method: 'GET', url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  };
  const out = toJSON(call('providers.aws.sign_req', [req, CONFIG, 1440938160000000000n])!) as { headers: Record<string, string> };
  assert.equal(out.headers.Authorization,
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request,'
    + 'SignedHeaders=content-type;host;x-amz-date,Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  assert.equal(out.headers['x-amz-date'], '20150830T123600Z');
  assert.equal(out.headers.host, 'iam.amazonaws.com');
});

test('providers.aws.sign_req: S3 payload hash, session token, unsigned payload, and operand errors', () => {
  const s3 = { ...CONFIG, aws_service: 's3', aws_session_token: 'TOKEN' };
  const out = toJSON(call('providers.aws.sign_req', [{ method: 'PUT', url: 'https://b.s3.amazonaws.com/k', raw_body: 'hi' }, s3, 0])!) as { headers: Record<string, string> };
  assert.equal(out.headers['x-amz-content-sha256'], '8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4');
  assert.equal(out.headers['x-amz-security-token'], 'TOKEN');
  assert.match(out.headers.Authorization!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  const unsigned = toJSON(call('providers.aws.sign_req', [{ method: 'PUT', url: 'https://b.s3.amazonaws.com/k' }, { ...s3, disable_payload_signing: true }, 0])!) as { headers: Record<string, string> };
  assert.equal(unsigned.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
  assert.throws(() => call('providers.aws.sign_req', [{}, CONFIG, 0]), /operand 1 missing required request parameters\(s\): \{"method", "url"\}/);
  assert.throws(() => call('providers.aws.sign_req', [{ method: 'GET', url: 'x' }, { aws_service: 's3' }, 0]),
    /operand 2 missing required AWS config parameters\(s\): \{"aws_access_key", "aws_region", "aws_secret_access_key"\}/);
  assert.throws(() => call('providers.aws.sign_req', [{ method: 'GET', url: 'x' }, CONFIG, 1.5]), /operand 3 could not convert time_ns/);
});

test('host builtins call the host hooks and fail clearly without them', () => {
  assert.throws(() => call('http.send', [{ method: 'GET', url: 'http://127.0.0.1/' }]), /http.send is disabled: .*HostHooks.httpSend/);
  assert.throws(() => call('http.send', [{ url: 'x' }]), /missing required request parameters\(s\): \{"method"\}/);
  let calls = 0;
  const c = ctx({}, { httpSend: (req) => { calls++; return toJSON(req) as never; } });
  const req = { method: 'GET', url: 'http://127.0.0.1/' };
  call('http.send', [req], c);
  call('http.send', [req], c);
  assert.equal(calls, 1, 'one response per identical request in a query');
  assert.throws(() => call('http.send', [req], ctx({}, { httpSend: async () => null })), /pending response/);

  assert.deepEqual(toJSON(call('net.lookup_ip_addr', ['10.0.0.1'])!), ['10.0.0.1']);
  assert.deepEqual(toJSON(call('net.lookup_ip_addr', ['::'])!), ['::']);
  assert.throws(() => call('net.lookup_ip_addr', ['example.com']), /net.lookup_ip_addr is disabled/);
  assert.deepEqual(toJSON(call('net.lookup_ip_addr', ['h'], ctx({}, { lookupIpAddr: () => ['1.2.3.4'] }))!), ['1.2.3.4']);

  assert.equal((call('opa.runtime', []) as RObject).size, 0);
  assert.deepEqual(toJSON(call('opa.runtime', [], ctx({}, { runtime: () => makeObject([['version', 'x']]) }))!), { version: 'x' });
});

test('hostsFileLookup resolves names from a hosts file for hosts that plug it in', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { hostsFileLookup } = await import('../src/builtins/host.js');
  const file = join(mkdtempSync(join(tmpdir(), 'hosts-')), 'hosts');
  writeFileSync(file, '127.0.0.1 localhost # loopback\n::1 localhost ip6-localhost\n10.0.0.5 db.internal\nnot-an-ip localhost\n');
  assert.deepEqual(hostsFileLookup('localhost', file), ['127.0.0.1', '::1']);
  assert.deepEqual(hostsFileLookup('DB.internal', file), ['10.0.0.5']);
  assert.deepEqual(hostsFileLookup('missing', file), []);
  assert.deepEqual(toJSON(call('net.lookup_ip_addr', ['localhost'], ctx({}, { lookupIpAddr: (n) => hostsFileLookup(n, file) }))!), ['127.0.0.1', '::1']);
});
