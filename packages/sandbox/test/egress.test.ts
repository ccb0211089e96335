/** Network: none by default; allowlisted destinations through the host proxy; every attempt recorded. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSandbox, SandboxError, type Sandbox } from '@oagf/sandbox';
import { startUpstream, testResolver, type Upstream } from './helpers.js';

let allowed: Upstream;
let other: Upstream;
let sandbox: Sandbox;

before(async () => {
  allowed = await startUpstream('hello from the allowed upstream');
  other = await startUpstream('you should never read this');
  sandbox = await createSandbox({
    resolver: testResolver({
      'api.test': ['127.0.0.1'],
      'other.test': ['127.0.0.1'],
      'rebind.test': ['127.0.0.1'],
      'mixed.test': ['93.184.215.14', '127.0.0.1'],
      localhost: ['127.0.0.1', '::1'],
    }),
  });
});

after(async () => {
  await sandbox.close();
  await allowed.close();
  await other.close();
});

/** Python's urllib honours HTTP(S)_PROXY, as most HTTP clients do. */
const fetchCode = (url: string) => `
import urllib.request, urllib.error
try:
    print(urllib.request.urlopen(${JSON.stringify(url)}, timeout=5).read().decode())
except urllib.error.HTTPError as e:
    print("refused", e.code, e.headers.get("x-sandbox-egress"))
except Exception as e:
    print("error", type(e).__name__, e)`;

describe('egress', () => {
  test('no network by default: only loopback inside, host services unreachable even on 127.0.0.1', async () => {
    const before = other.connections;
    const o = await sandbox.run({
      language: 'python',
      code: `
import socket, os
print(sorted(os.listdir("/sys/class/net")) if os.path.exists("/sys/class/net") else "no sysfs")
for host, port in [("127.0.0.1", ${other.port}), ("10.0.0.1", 80), ("169.254.169.254", 80), ("1.1.1.1", 53)]:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port))
        print(host, "connected")
    except OSError as e:
        print(host, e.errno)
print("proxy" in str(os.environ).lower())`,
    });
    assert.equal(o.status, 'exited', o.stderrText);
    const lines = o.stdoutText.trim().split('\n');
    assert.equal(lines[1], '127.0.0.1 111', 'ECONNREFUSED: 127.0.0.1 is the sandbox’s own loopback');
    assert.equal(lines[2], '10.0.0.1 101', 'ENETUNREACH');
    assert.equal(lines[3], '169.254.169.254 101');
    assert.equal(lines[4], '1.1.1.1 101');
    assert.equal(lines[5], 'False', 'no proxy variables without network');
    assert.equal(other.connections, before, 'the host service got nothing');
    assert.deepEqual(o.egress, []);
  });

  test('an allowlisted name is reachable through the proxy (plain HTTP and CONNECT), each attempt recorded', async () => {
    const before = allowed.requests.length;
    const o = await sandbox.run({
      language: 'python',
      code: `${fetchCode(`http://api.test:${allowed.port}/data?q=1`)}
import socket
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(b"CONNECT api.test:${allowed.port} HTTP/1.1\\r\\nHost: api.test:${allowed.port}\\r\\n\\r\\n")
print(s.recv(100).split(b"\\r\\n")[0].decode())
s.sendall(b"GET /tunnel HTTP/1.1\\r\\nHost: api.test\\r\\nConnection: close\\r\\n\\r\\n")
data = b""
while chunk := s.recv(4096): data += chunk
print(data.split(b"\\r\\n\\r\\n", 1)[1].decode())`,
      network: { allow: [`api.test:${allowed.port}`], allowPrivateRanges: ['127.0.0.1/32'] },
    });
    assert.equal(o.status, 'exited', o.stderrText);
    assert.deepEqual(o.stdoutText.trim().split('\n'), ['hello from the allowed upstream', 'HTTP/1.1 200 Connection Established', 'hello from the allowed upstream']);
    assert.deepEqual(allowed.requests.slice(before), ['GET /data?q=1', 'GET /tunnel']);
    assert.equal(o.egress.length, 2);
    assert.deepEqual(
      o.egress.map((a) => [a.kind, a.host, a.port, a.decision, a.address]),
      [
        ['http', 'api.test', allowed.port, 'allowed', '127.0.0.1'],
        ['connect', 'api.test', allowed.port, 'allowed', '127.0.0.1'],
      ],
    );
    assert.ok(o.egress[1]!.bytesDown! > 0 && o.egress[1]!.bytesUp! > 0);
    assert.deepEqual(o.description.network, { allow: [`api.test:${allowed.port}`], allowPrivateRanges: ['127.0.0.1/32'] });
  });

  test('a host not on the allowlist is refused and recorded; the upstream gets nothing', async () => {
    const before = other.connections;
    const o = await sandbox.run({
      language: 'python',
      code: fetchCode(`http://other.test:${other.port}/`) + fetchCode(`http://api.test:${other.port}/wrong-port`),
      network: { allow: [`api.test:${allowed.port}`], allowPrivateRanges: ['127.0.0.1/32'] },
    });
    assert.equal(o.status, 'exited', o.stderrText);
    assert.deepEqual(o.stdoutText.trim().split('\n'), ['refused 403 not in the allowlist', 'refused 403 not in the allowlist']);
    assert.equal(other.connections, before);
    assert.deepEqual(
      o.egress.map((a) => [a.host, a.port, a.decision, a.reason]),
      [
        ['other.test', other.port, 'denied', 'not in the allowlist'],
        ['api.test', other.port, 'denied', 'not in the allowlist'],
      ],
    );
  });

  test('DNS rebinding: an allowed name resolving to loopback is refused unless the range is allowed explicitly', async () => {
    const before = allowed.connections;
    const o = await sandbox.run({
      language: 'python',
      code: fetchCode(`http://rebind.test:${allowed.port}/`) + fetchCode(`http://mixed.test:${allowed.port}/`),
      network: { allow: [`rebind.test:${allowed.port}`, `mixed.test:${allowed.port}`] },
    });
    assert.equal(o.status, 'exited', o.stderrText);
    const lines = o.stdoutText.trim().split('\n');
    assert.match(lines[0]!, /^refused 403 resolves to a loopback, private, link-local or reserved address \(127\.0\.0\.1\)$/);
    assert.match(lines[1]!, /^refused 403 .*\(127\.0\.0\.1\)$/, 'one bad address among several refuses the name');
    assert.equal(allowed.connections, before, 'the loopback service got nothing');
    assert.deepEqual(o.egress.map((a) => [a.decision, a.address]), [['denied', '127.0.0.1'], ['denied', '127.0.0.1']]);
  });

  test('private, loopback and metadata addresses by IP are refused through the proxy; CONNECT too', async () => {
    const before = allowed.connections;
    const o = await sandbox.run({
      language: 'python',
      code: `
import socket
for target in ["127.0.0.1:${allowed.port}", "[::ffff:127.0.0.1]:${allowed.port}", "169.254.169.254:80", "10.1.2.3:80", "[fd00:ec2::254]:80", "localhost:${allowed.port}"]:
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(f"CONNECT {target} HTTP/1.1\\r\\n\\r\\n".encode())
    print(s.recv(200).split(b"\\r\\n")[0].decode())`,
      network: { allow: [`*.test:*`, `localhost:${allowed.port}`] },
    });
    assert.equal(o.status, 'exited', o.stderrText);
    const lines = o.stdoutText.trim().split('\n');
    assert.equal(lines.length, 6);
    for (const line of lines) assert.match(line, /^HTTP\/1\.1 403 /);
    assert.equal(allowed.connections, before);
    assert.equal(o.egress.length, 6);
    assert.ok(o.egress.every((a) => a.decision === 'denied'));
  });

  test('an IP literal on the allowlist is an explicit choice of that address', async () => {
    const before = allowed.requests.length;
    const o = await sandbox.run({ language: 'python', code: fetchCode(`http://127.0.0.1:${allowed.port}/by-ip`), network: { allow: [`127.0.0.1:${allowed.port}`] } });
    assert.equal(o.stdoutText.trim(), 'hello from the allowed upstream', o.stderrText);
    assert.deepEqual(allowed.requests.slice(before), ['GET /by-ip']);
  });

  test('bad allowlist entries are rejected before anything runs', async () => {
    for (const allow of [['api.test:99999'], ['*.1.2.3.4:80'], ['bad host:80'], ['']]) {
      await assert.rejects(sandbox.run({ language: 'python', code: 'pass', network: { allow } }), (e: unknown) => e instanceof SandboxError && e.code === 'invalid_request');
    }
    await assert.rejects(sandbox.run({ language: 'python', code: 'pass', network: { allow: ['a.test'], allowPrivateRanges: ['10.0.0.0/33'] } }), /allowPrivateRanges/);
  });
});
