/**
 * Security class 1 (API proxy paths): the policy judges one canonical path and the upstream receives exactly that
 * path, under the API's base, on the API's origin — or the request is refused and the upstream gets nothing.
 * Every case asserts both the agent's answer and what the fake upstream received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalPath, CanonicalError, canonicalSegments, encodePath } from '../src/http/canonical.js';
import { KEYS, startGatekeeper, startUpstream, type Fixture } from './core/fixture.js';
import { rawRequest } from './support/raw-http.js';

const AUTH = `authorization: Bearer ${KEYS.buyer}`;

describe('API proxy paths', () => {
  let fx: Fixture;
  let erp: Awaited<ReturnType<typeof startUpstream>>;
  let other: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    process.env.GK_TEST_ERP_TOKEN = 'erp-secret';
    erp = await startUpstream((c) => ({ json: { path: c.url } }));
    other = await startUpstream(() => ({ json: { stolen: true } }));
    fx = await startGatekeeper({ config: { apis: { erp: { base_url: `${erp.url}/v2`, headers: { authorization: { env: 'GK_TEST_ERP_TOKEN', prefix: 'Bearer ' } } } } } });
  });
  after(async () => {
    await fx.close();
    await erp.close();
    await other.close();
  });

  const get = (target: string) => rawRequest(fx.url, `GET ${target} HTTP/1.1\r\n${AUTH}`);

  /** Sends `target`; expects `status` and that the upstream received nothing. */
  async function refused(target: string, status: number, message?: RegExp) {
    const before = erp.received.length + other.received.length;
    const res = await get(target);
    assert.equal(res.status, status, `${target}: ${res.body}`);
    if (message) assert.match(JSON.parse(res.body).error.message, message, target);
    assert.equal(erp.received.length + other.received.length, before, `${target} must not reach any upstream`);
  }

  test('dot segments are removed before the policy judges: the route allowed as GET /inventory* does not reach /admin', async () => {
    for (const climb of ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2E.']) {
      await refused(`/apis/erp/inventory/${climb}/admin/secrets`, 403, /GET \/admin\/secrets/);
    }
  });

  test('.. that climbs above the API base is refused with a clear reason', async () => {
    for (const t of ['/apis/erp/../v2/admin', '/apis/erp/%2e%2e/x', '/apis/erp/inventory/../../x', '/apis/erp/./../x']) {
      await refused(t, 400, /climbs above its base/);
    }
  });

  test('encoded slashes and backslashes, NUL and control characters are refused', async () => {
    for (const t of ['/apis/erp/inventory%2f..%2f..%2fadmin', '/apis/erp/inventory%2F..%2Fadmin', '/apis/erp/inventory%5c..%5cadmin', '/apis/erp/inventory\\..\\admin', '/apis/erp/inventory%00.json', '/apis/erp/inventory%0d%0aX-Injected:%201', '/apis/erp/inventory%7f', '/apis/erp/inventory%09']) {
      await refused(t, 400, /no safe canonical form/);
    }
  });

  test('"//" (an empty segment — how a request could name another host) and absolute-form targets are refused', async () => {
    const host = new URL(other.url).host;
    for (const t of [`/apis/erp//${host}/x`, `/apis/erp///${host}/x`, '/apis/erp/inventory//x']) await refused(t, 400, /empty path segment/);
    await refused(`${other.url}/apis/erp/inventory`, 400, /origin-form/);
    await refused(`http://${host}/apis/erp/inventory`, 400, /origin-form/);
  });

  test('an encoded ? or # cannot smuggle a query or fragment into the path', async () => {
    for (const t of ['/apis/erp/inventory%3Fadmin=1', '/apis/erp/inventory%3fx', '/apis/erp/inventory%23frag']) await refused(t, 400, /"\?" or "#"/);
  });

  test('double encoding, malformed and overlong escapes, IIS %u escapes are refused', async () => {
    for (const t of ['/apis/erp/inventory/%252e%252e/admin', '/apis/erp/inventory%2541', '/apis/erp/inventory/%c0%ae%c0%ae/admin', '/apis/erp/inventory/%u002e%u002e/admin', '/apis/erp/inventory/%zz', '/apis/erp/inventory/%']) {
      await refused(t, 400);
    }
  });

  test('Unicode look-alikes of "." and "/" (full-width, one-dot leader) and dot segments with parameters are refused', async () => {
    for (const t of ['/apis/erp/inventory/%EF%BC%8E%EF%BC%8E/admin', '/apis/erp/inventory%EF%BC%8Fadmin', '/apis/erp/inventory/%E2%80%A4%E2%80%A4/admin', '/apis/erp/inventory/..;/admin', '/apis/erp/inventory/.;x/admin']) {
      await refused(t, 400);
    }
  });

  test('method casing, method-override headers and unknown methods never change what is carried out', async () => {
    const before = erp.received.length;
    const lower = await rawRequest(fx.url, `get /apis/erp/inventory HTTP/1.1\r\n${AUTH}`);
    assert.equal(lower.status, 400, 'HTTP methods are case-sensitive; node refuses "get"');
    for (const h of ['X-HTTP-Method-Override: DELETE', 'x-http-method: DELETE', 'X-Method-Override: DELETE']) {
      const res = await rawRequest(fx.url, `GET /apis/erp/inventory HTTP/1.1\r\n${AUTH}\r\n${h}`);
      assert.equal(res.status, 400, h);
      assert.match(JSON.parse(res.body).error.message, /policy judges the request's own method/);
    }
    const propfind = await rawRequest(fx.url, `PROPFIND /apis/erp/inventory HTTP/1.1\r\n${AUTH}`);
    assert.equal(propfind.status, 405);
    assert.equal(erp.received.length, before);
  });

  test('an allowed request reaches exactly the canonical path under the base, with the judged query re-encoded', async () => {
    const cases: [string, string][] = [
      ['/apis/erp/inventory', '/v2/inventory'],
      ['/apis/erp/inventory/', '/v2/inventory/'],
      ['/apis/erp/./inventory/./steel', '/v2/inventory/steel'],
      ['/apis/erp/x/../inventory/a%20b', '/v2/inventory/a%20b'],
      ['/apis/erp/inventory/caf%C3%A9', '/v2/inventory/caf%C3%A9'],
      ['/apis/erp/inventory?sku=STEEL+7&sku=a%26b', '/v2/inventory?sku=STEEL%207&sku=a%26b'],
      ['/apis/erp/inventory/%41', '/v2/inventory/A'],
    ];
    for (const [target, expected] of cases) {
      const before = erp.received.length;
      const res = await get(target);
      assert.equal(res.status, 200, `${target}: ${res.body}`);
      assert.equal(erp.received.length, before + 1);
      assert.equal(erp.received.at(-1)!.url, expected, target);
      assert.equal(erp.received.at(-1)!.headers.authorization, 'Bearer erp-secret');
      const record = (await fx.gk.deps.ledger!.findById(res.headers['oagf-decision-id']!))!.record;
      assert.equal(encodePath((record.data as { target: { path: string } }).target.path), expected.slice(3).split('?')[0], 'what was judged is what was sent');
    }
  });

  test('property: any path is refused, or the upstream receives exactly the judged path under the base, on its origin', async () => {
    const alphabet = ['a', 'inventory', '.', '..', '%2e', '%2f', '%5c', '/', '//', '%25', '%3f', '%23', ';', '%00', '%EF%BC%8E', 'é', '%C3%A9', '~', '%20', '+', '@', ':'];
    const piece = fc.constantFrom(...alphabet);
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), async (pieces) => {
        const rest = pieces.join('');
        const target = `/apis/erp/inventory${rest.startsWith('/') ? '' : '/'}${rest}`;
        const before = erp.received.length + other.received.length;
        const res = await get(target);
        const after = erp.received.length + other.received.length;
        if (res.status !== 200) {
          assert.ok([400, 403].includes(res.status), `${target} → ${res.status}`);
          assert.equal(after, before, `${target} refused but forwarded`);
          return;
        }
        assert.equal(after, before + 1);
        assert.equal(other.received.length, 0, 'never another origin');
        const record = (await fx.gk.deps.ledger!.findById(res.headers['oagf-decision-id']!))!.record;
        const judged = (record.data as { target: { path: string } }).target.path;
        assert.ok(judged.startsWith('/inventory'), `allowed only under the policy's route: ${judged}`);
        assert.equal(erp.received.at(-1)!.url, `/v2${encodePath(judged)}`);
      }),
      { numRuns: 150 },
    );
  });
});

describe('canonical path parser (fuzzed: never crashes, never yields an unsafe path)', () => {
  test('every input is refused with a CanonicalError or yields segments with no "/", "\\", dot segment, control or escape', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.constantFrom('/', '.', '%', '2', 'e', 'f', '5', 'c', 'a', '\\', '?', ';', '\u0000', 'é', '\uff0e'), { maxLength: 30 }).map((a) => `/${a.join('')}`)), (raw) => {
        let segments: string[];
        try {
          segments = canonicalSegments(raw);
        } catch (err) {
          assert.ok(err instanceof CanonicalError, `unexpected ${String(err)} for ${JSON.stringify(raw)}`);
          return;
        }
        for (const s of segments) {
          assert.ok(!/[/\\?#\u0000-\u001f\u007f]/.test(s) && s !== '.' && s !== '..' && !/%[0-9a-f]{2}/i.test(s), `${JSON.stringify(raw)} → ${JSON.stringify(s)}`);
        }
        const path = `/${segments.join('/')}`;
        assert.equal(canonicalPath(encodePath(path)), path, 'encoding round-trips to the judged path');
      }),
      { numRuns: 5000 },
    );
  });
});
