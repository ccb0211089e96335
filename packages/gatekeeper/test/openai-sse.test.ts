import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser, encodeSse } from '../src/llm/sse.js';

interface Spec {
  event?: string;
  lines: string[];
  comment?: string;
}

const lineText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' '));
const eventSpec: fc.Arbitrary<Spec> = fc.record(
  {
    event: fc.constantFrom('message', 'error', 'response.output_text.delta', 'x'),
    lines: fc.array(lineText, { minLength: 1, maxLength: 4 }),
    comment: lineText,
  },
  { requiredKeys: ['lines'] },
);

function serialize(specs: Spec[], eol: string): string {
  return specs
    .map((s) => {
      let out = s.comment !== undefined ? `:${s.comment}${eol}` : '';
      if (s.event !== undefined) out += `event: ${s.event}${eol}`;
      for (const l of s.lines) out += `data: ${l}${eol}`;
      return out + eol;
    })
    .join('');
}

/** Splits bytes at the given cut points (any byte offset, so also inside UTF-8 sequences). */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const p of sorted) {
    parts.push(bytes.subarray(at, p));
    at = p;
  }
  parts.push(bytes.subarray(at));
  return parts;
}

test('SSE parser: events split at any byte boundary parse the same as whole, raw bytes preserved', () => {
  fc.assert(
    fc.property(
      fc.array(eventSpec, { minLength: 1, maxLength: 6 }),
      fc.constantFrom('\n', '\r\n', '\r'),
      fc.array(fc.nat(), { maxLength: 12 }),
      (specs, eol, points) => {
        const bytes = new TextEncoder().encode(serialize(specs, eol));
        const parser = new SseParser();
        const got = cut(bytes, points).flatMap((part) => parser.push(part));
        assert.deepEqual(
          got.map((e) => ({ event: e.event, data: e.data })),
          specs.map((s) => ({ event: s.event, data: s.lines.join('\n') })),
        );
        const rawLength = got.reduce((n, e) => n + e.raw.length, 0);
        assert.equal(rawLength + parser.pending, bytes.length);
        const joined = Buffer.concat(got.map((e) => e.raw));
        assert.deepEqual(joined, Buffer.from(bytes.subarray(0, rawLength)));
      },
    ),
    { numRuns: 500 },
  );
});

test('SSE parser: a stream cut mid-event keeps the partial event pending', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push(new TextEncoder().encode('data: {"a":1}\n\ndata: {"b"')).map((e) => e.data), ['{"a":1}']);
  assert.equal(parser.pending, 'data: {"b"'.length);
});

test('SSE parser: field without space, id, comment-only block', () => {
  const parser = new SseParser();
  const got = parser.push(new TextEncoder().encode('data:x\nid: 7\n\n: ping\n\n'));
  assert.equal(got.length, 2);
  assert.deepEqual({ data: got[0]!.data, id: got[0]!.id }, { data: 'x', id: '7' });
  assert.equal(got[1]!.data, '');
});

test('encodeSse round-trips through the parser', () => {
  fc.assert(
    fc.property(fc.array(lineText, { minLength: 1, maxLength: 3 }), (lines) => {
      const [event] = new SseParser().push(encodeSse(lines.join('\n'), 'error'));
      assert.equal(event!.event, 'error');
      assert.equal(event!.data, lines.join('\n'));
    }),
  );
});
