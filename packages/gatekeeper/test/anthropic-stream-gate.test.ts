/**
 * The Messages stream gate without HTTP: for any text, thinking and tool_use blocks, any verdicts decided in any
 * order and at any speed, and any byte splits, the agent's client (assembling blocks by start order, as the SDKs
 * do) builds exactly the upstream's text, the released tool_use blocks with their input intact, a text block per
 * withheld one in its place, and a stop reason that matches what is left. Streams a client would assemble
 * differently from what was decided are ended instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser } from '../src/llm/sse.js';
import type { ProposedToolCall, ToolVerdict } from '../src/llm/tool-judge.js';
import { BlockClassifier, offeredClientTools } from '../src/surfaces/anthropic/content.js';
import { chatTranscript } from '../src/surfaces/anthropic/request.js';
import { MessageStreamGate } from '../src/surfaces/anthropic/message-stream.js';
import { messageEvents, type Block } from './support/scripted-anthropic.js';
import { cutBytes, serializeSse } from './support/scripted-upstream.js';

type Json = Record<string, unknown>;

/** What an Anthropic SDK builds from the events: blocks pushed at their start, deltas applied by index. */
function assemble(events: Json[]): { content: Json[]; stop?: unknown; error?: Json } {
  const content: Json[] = [];
  const inputs = new Map<number, string>();
  let stop: unknown;
  for (const ev of events) {
    if (ev.type === 'error') return { content, stop, error: ev };
    if (ev.type === 'content_block_start') content.push({ ...(ev.content_block as Json) });
    if (ev.type === 'content_block_delta') {
      const block = content.at(ev.index as number)!;
      const d = ev.delta as Json;
      if (d.type === 'text_delta' && block.type === 'text') block.text = String(block.text) + String(d.text);
      if (d.type === 'thinking_delta' && block.type === 'thinking') block.thinking = String(block.thinking) + String(d.thinking);
      if (d.type === 'input_json_delta' && block.type === 'tool_use') inputs.set(ev.index as number, (inputs.get(ev.index as number) ?? '') + String(d.partial_json));
    }
    if (ev.type === 'message_delta') stop = (ev.delta as Json).stop_reason;
  }
  for (const [i, text] of inputs) content[i]!.input = JSON.parse(text);
  return { content, stop };
}

function run(events: Json[], judge: (call: ProposedToolCall) => Promise<ToolVerdict>, cuts: number[] = [], classifier = new BlockClassifier()) {
  const written: Uint8Array[] = [];
  let terminated: unknown;
  const gate = new MessageStreamGate({ judge, write: (b) => written.push(b), classifier, onTerminate: (e) => (terminated = e) });
  const parser = new SseParser();
  for (const piece of cutBytes(new TextEncoder().encode(serializeSse(events, true, false)), { at: cuts })) for (const e of parser.push(piece)) gate.push(e);
  return gate.finish().then(() => {
    const out = new SseParser();
    const parsed = written.flatMap((w) => out.push(w)).map((e) => JSON.parse(e.data) as Json);
    return { events: parsed, terminated, gate };
  });
}

const releaseAll = async (): Promise<ToolVerdict> => ({ kind: 'release' });

const blockSpec = fc.oneof(
  fc.record({ text: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) }),
  fc.record({ thinking: fc.string({ minLength: 1, maxLength: 8 }) }),
  fc.record({
    input: fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.oneof(fc.integer(), fc.string({ unit: 'binary', maxLength: 6 })), { maxKeys: 3 }),
    release: fc.boolean(),
    delayMs: fc.constantFrom(0, 0, 1, 3),
  }),
);

test('any blocks, verdicts and byte splits: text intact, released inputs intact, withheld ones replaced in place, true stop reason', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(blockSpec, { maxLength: 6 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat({ max: 3000 }), { maxLength: 40 }), async (specs, pieces, cuts) => {
      const blocks: Block[] = specs.map((s, i) => ('input' in s ? { tool: `tool_${i}`, input: s.input, id: `toolu_${i}` } : s));
      const judge = async (call: ProposedToolCall): Promise<ToolVerdict> => {
        const spec = specs[Number(call.name.slice('tool_'.length))] as { release: boolean; delayMs: number };
        await new Promise((r) => (spec.delayMs ? setTimeout(r, spec.delayMs) : queueMicrotask(() => r(undefined))));
        return spec.release ? { kind: 'release' } : { kind: 'replace', message: `withheld ${call.name}` };
      };
      const { events, terminated } = await run(messageEvents({ blocks, pieces }), judge, cuts);
      assert.equal(terminated, undefined);
      const { content, stop, error } = assemble(events);
      assert.equal(error, undefined);
      assert.equal(content.length, blocks.length, 'one block per upstream block, in place');
      let released = 0;
      specs.forEach((s, i) => {
        const got = content[i]!;
        if ('text' in s) assert.deepEqual(got, { type: 'text', text: s.text });
        else if ('thinking' in s) assert.equal(got.thinking, s.thinking);
        else if (s.release) {
          released++;
          assert.deepEqual([got.type, got.name, got.input], ['tool_use', `tool_${i}`, JSON.parse(JSON.stringify(s.input))]);
        } else assert.deepEqual(got, { type: 'text', text: `withheld tool_${i}` });
      });
      const hadTools = specs.some((s) => 'input' in s);
      assert.equal(stop, hadTools ? (released > 0 ? 'tool_use' : 'end_turn') : 'end_turn');
      assert.deepEqual(events.at(-1), { type: 'message_stop' });
    }),
    { numRuns: 150 },
  );
});

test('the usage of the stream is its start merged with the final message_delta', async () => {
  const { gate } = await run(messageEvents({ blocks: [{ text: 'hi' }], usage: { input_tokens: 9, cache_read_input_tokens: 4, output_tokens: 21 } }), releaseAll);
  assert.deepEqual(gate.usage(), { usage: { input_tokens: 9, cache_read_input_tokens: 4, output_tokens: 21 }, model: 'claude-test' });
});

/** Events with one change made to them. */
const edited = (blocks: Block[], edit: (events: Json[]) => Json[]) => edit(messageEvents({ blocks }));

test('interleaved blocks, skipped indices and deltas for closed blocks end the stream after what was decided', async () => {
  const cases: [string, Json[], RegExp][] = [
    [
      'a text block starts inside a held tool_use',
      edited([{ tool: 't', input: { a: 1 } }, { text: 'x' }], (ev) => {
        const textStart = ev.findIndex((e) => e.type === 'content_block_start' && e.index === 1);
        const [start] = ev.splice(textStart, 1);
        ev.splice(3, 0, start!);
        return ev;
      }),
      /block 1 started while block 0 was open/,
    ],
    ['an index is skipped', edited([{ text: 'a' }], (ev) => ev.map((e) => (e.index === 0 ? { ...e, index: 1 } : e))), /block 1 started where block 0 was due/],
    [
      'a delta after the block stopped',
      edited([{ tool: 't', input: { a: 1 } }], (ev) => {
        ev.splice(ev.findIndex((e) => e.type === 'message_delta'), 0, { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: ',"b":2}' } });
        return ev;
      }),
      /content_block_delta for block 0, which is not open/,
    ],
  ];
  for (const [what, events, message] of cases) {
    const { events: out, terminated } = await run(events, releaseAll);
    const { content, error } = assemble(out);
    assert.ok(error, `${what}: the stream ends with an error`);
    assert.match(String(((error as Json).error as Json).message), message, what);
    assert.ok(terminated, what);
    assert.ok(!content.some((b) => b.type === 'tool_use' && JSON.stringify(b.input ?? {}).includes('"b"')), what);
  }
});

test('a tool_use whose start announces one input and whose deltas spell another is withheld', async () => {
  const events = edited([{ tool: 'pay', input: { to: 'bob' } }], (ev) => ev.map((e) => (e.type === 'content_block_start' ? { ...e, content_block: { ...(e.content_block as Json), input: { to: 'mallory' } } } : e)));
  const seen: ProposedToolCall[] = [];
  const judge = async (call: ProposedToolCall): Promise<ToolVerdict> => {
    seen.push(call);
    return call.withhold ? { kind: 'replace', message: `withheld: ${call.withhold}` } : { kind: 'release' };
  };
  const { events: out } = await run(events, judge);
  assert.equal(seen[0]!.withhold, 'the stream announced one input and streamed another');
  assert.deepEqual(assemble(out).content, [{ type: 'text', text: 'withheld: the stream announced one input and streamed another' }]);
});

test('tool input with a duplicate key is judged as unreadable text, never released', async () => {
  const events = edited([{ tool: 'bash', input: { command: 'ls' } }], (ev) =>
    ev.map((e) => (e.type === 'content_block_delta' ? { ...e, delta: { type: 'input_json_delta', partial_json: '' } } : e)).concat(),
  );
  const delta = events.find((e) => e.type === 'content_block_delta')!;
  (delta.delta as Json).partial_json = '{"command":"ls","command":"rm -rf /"}';
  const classifier = new BlockClassifier(offeredClientTools({ tools: [{ type: 'bash_20250124', name: 'bash' }] }));
  const seen: ProposedToolCall[] = [];
  await run(events, async (call) => (seen.push(call), { kind: 'release' }), [], classifier);
  assert.equal(seen[0]!.kind, undefined, 'not read as a shell command');
  assert.equal(seen[0]!.arguments, '{"command":"ls","command":"rm -rf /"}', 'judged as the text it is (the judge refuses to release it)');
});

test('blocks of unknown type are withheld by default; events of unknown types are left out', async () => {
  const events = messageEvents({ blocks: [{ raw: { type: 'future_action', act: 'now' } }, { text: 'after' }] });
  events.splice(2, 0, { type: 'future_event', payload: 1 });
  const seen: ProposedToolCall[] = [];
  const { events: out } = await run(events, async (call) => (seen.push(call), call.withhold ? { kind: 'replace', message: 'withheld' } : { kind: 'release' }));
  assert.equal(seen[0]!.kind, 'llm.unknown_item');
  assert.ok(!out.some((e) => e.type === 'future_event'));
  assert.deepEqual(assemble(out).content, [{ type: 'text', text: 'withheld' }, { type: 'text', text: 'after' }]);
});

test('blocks that arrive with message_start are decided too', async () => {
  const events = messageEvents({ blocks: [{ text: 'later' }] });
  const start = events[0]!;
  (start.message as Json).content = [{ type: 'tool_use', id: 'toolu_x', name: 'wire', input: { amount: 1 } }];
  events.forEach((e) => {
    if (typeof e.index === 'number') e.index = 1;
  });
  const { events: out } = await run(events, async () => ({ kind: 'replace', message: 'no wires' }));
  assert.deepEqual(((out[0]!.message as Json).content as Json[])[0], { type: 'text', text: 'no wires' });
});

test("the transcript for traces and estimates: system first, thinking as reasoning, tool_use as calls, tool_result as tool messages", () => {
  const t = chatTranscript('Be brief.', [
    { role: 'user', content: 'stock?' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'check it', signature: 's' }, { type: 'text', text: 'checking' }, { type: 'tool_use', id: 'tu1', name: 'check_inventory', input: { sku: 'A' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: '340' }, { type: 'text', text: 'and now?' }] },
  ]);
  assert.deepEqual(t, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'stock?' },
    { role: 'assistant', content: [{ type: 'text', text: 'checking' }], reasoning_content: 'check it', tool_calls: [{ id: 'tu1', type: 'function', function: { name: 'check_inventory', arguments: '{"sku":"A"}' } }] },
    { role: 'tool', content: '340', tool_call_id: 'tu1' },
    { role: 'user', content: [{ type: 'text', text: 'and now?' }] },
  ]);
});
