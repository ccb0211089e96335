/**
 * The streaming tool-call gate, without HTTP: for any content, any tool calls with any verdicts, decided
 * in any order and at any speed, and any byte splits, the agent sees exactly the upstream's text, the
 * released calls renumbered 0..k-1 with their arguments intact, a message per withheld call, and a
 * finish_reason that matches what is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChatStreamGate } from '../src/surfaces/openai/chat-stream.js';
import { ResponsesStreamGate } from '../src/surfaces/openai/responses-stream.js';
import { SseParser } from '../src/llm/sse.js';
import type { ToolVerdict } from '../src/llm/tool-judge.js';
import { chatChunks, cutBytes, responseEvents, serializeSse, type Received } from './support/scripted-upstream.js';

type Json = Record<string, unknown>;

const callSpec = fc.record({
  args: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ unit: 'binary', maxLength: 8 })), { maxKeys: 4 }),
  release: fc.boolean(),
  delayMs: fc.constantFrom(0, 0, 1, 3),
});

const scenario = fc.record({
  content: fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), { maxLength: 4 }),
  calls: fc.array(callSpec, { maxLength: 4 }),
  argPieces: fc.integer({ min: 1, max: 5 }),
  cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 40 }),
  clientAskedUsage: fc.boolean(),
});

const request = (includeUsage: boolean): Received => ({ method: 'POST', url: '/', headers: {}, body: { stream_options: { include_usage: includeUsage } }, text: '' });

function judgeFor(calls: { release: boolean; delayMs: number }[]) {
  return async (call: { name: string }): Promise<ToolVerdict> => {
    const spec = calls[Number(call.name.slice('tool_'.length))]!;
    await new Promise((r) => (spec.delayMs ? setTimeout(r, spec.delayMs) : queueMicrotask(() => r(undefined))));
    return spec.release ? { kind: 'release' } : { kind: 'replace', message: `withheld ${call.name}` };
  };
}

function parseAll(chunks: Uint8Array[]): { data: string; event?: string }[] {
  const parser = new SseParser();
  return chunks.flatMap((c) => parser.push(c)).map((e) => ({ data: e.data, event: e.event }));
}

test('chat stream gate: released calls renumbered and intact, withheld ones replaced, text untouched', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const toolCalls = s.calls.map((c, i) => ({ name: `tool_${i}`, arguments: JSON.stringify(c.args), id: `call_${i}` }));
      const upstream = chatChunks(request(true), { content: s.content, toolCalls, argPieces: s.argPieces });
      const bytes = new TextEncoder().encode(serializeSse(upstream, false, true));
      const written: Uint8Array[] = [];
      let usage: unknown;
      const gate = new ChatStreamGate({
        judge: judgeFor(s.calls),
        write: (b) => written.push(b),
        stripUsageChunk: !s.clientAskedUsage,
        onUsage: (u) => (usage = u),
        onTerminate: () => assert.fail('no verdict here ends the stream'),
      });
      const parser = new SseParser();
      for (const piece of cutBytes(bytes, { at: s.cuts })) for (const e of parser.push(piece)) gate.push(e);
      await gate.finish();

      const events = parseAll(written);
      assert.equal(events.at(-1)!.data, '[DONE]');
      let content = '';
      let finish: unknown = null;
      let sawUsageChunk = false;
      const calls = new Map<number, { id?: string; name: string; args: string }>();
      for (const e of events.slice(0, -1)) {
        const chunk = JSON.parse(e.data) as Json;
        const choices = chunk.choices as Json[];
        if (choices.length === 0) sawUsageChunk = true;
        for (const choice of choices) {
          const delta = choice.delta as Json;
          if (typeof delta.content === 'string') content += delta.content;
          for (const tc of (delta.tool_calls ?? []) as Json[]) {
            const c = calls.get(tc.index as number) ?? { name: '', args: '' };
            if (tc.id) c.id = tc.id as string;
            const fn = tc.function as Json;
            c.name += (fn.name as string | undefined) ?? '';
            c.args += (fn.arguments as string | undefined) ?? '';
            calls.set(tc.index as number, c);
          }
          if (choice.finish_reason != null) finish = choice.finish_reason;
        }
      }
      const released = toolCalls.filter((_, i) => s.calls[i]!.release);
      const withheld = toolCalls.filter((_, i) => !s.calls[i]!.release);
      assert.deepEqual([...calls.keys()], released.map((_, i) => i));
      assert.deepEqual([...calls.values()], released.map((c) => ({ id: c.id, name: c.name, args: c.arguments })));
      const text = s.content.join('');
      const notes = withheld.map((c) => `withheld ${c.name}`);
      assert.equal(content, notes.reduce((acc, n) => (acc === '' ? n : `${acc}\n\n${n}`), text));
      assert.equal(finish, toolCalls.length === 0 ? 'stop' : released.length > 0 ? 'tool_calls' : 'stop');
      assert.equal(sawUsageChunk, s.clientAskedUsage);
      assert.deepEqual(usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    }),
    { numRuns: 150 },
  );
});

test('chat stream gate: text ahead of a pending decision is written at once', async () => {
  const pending: ((v: ToolVerdict) => void)[] = [];
  const written: string[] = [];
  const gate = new ChatStreamGate({
    judge: () => new Promise((r) => pending.push(r)),
    write: (b) => written.push(new TextDecoder().decode(b)),
    stripUsageChunk: true,
    onUsage: () => {},
    onTerminate: () => {},
  });
  const chunks = chatChunks(request(false), { content: ['Hello'], toolCalls: [{ name: 'tool_0', arguments: '{}' }, { name: 'tool_1', arguments: '{}' }] });
  const parser = new SseParser();
  for (const e of parser.push(new TextEncoder().encode(serializeSse(chunks, false, true)))) gate.push(e);
  // Everything up to the first tool call is out; nothing of any tool call, nor what follows it.
  assert.ok(written.join('').includes('"content":"Hello"'));
  assert.ok(!written.join('').includes('tool_'));
  assert.ok(!written.join('').includes('[DONE]'));
  for (const release of pending) release({ kind: 'release' });
  await gate.finish();
  assert.ok(written.join('').includes('"name":"tool_0"') && written.join('').trimEnd().endsWith('data: [DONE]'));
});

test('responses stream gate: any verdicts and splits keep the event sequence unbroken and the final output consistent', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const toolCalls = s.calls.map((c, i) => ({ name: `tool_${i}`, arguments: JSON.stringify(c.args), id: `call_${i}` }));
      const upstream = responseEvents({ text: s.content.length ? s.content : undefined, toolCalls, argPieces: s.argPieces });
      const bytes = new TextEncoder().encode(serializeSse(upstream, true, false));
      const written: Uint8Array[] = [];
      const gate = new ResponsesStreamGate({ judge: judgeFor(s.calls), write: (b) => written.push(b), onUsage: () => {}, onTerminate: () => {} });
      const parser = new SseParser();
      for (const piece of cutBytes(bytes, { at: s.cuts })) for (const e of parser.push(piece)) gate.push(e);
      await gate.finish();

      const events = parseAll(written).map((e) => ({ ...(JSON.parse(e.data) as Json), sse: e.event }));
      assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
      for (const e of events) assert.equal(e.sse, e.type, 'the SSE event name matches the payload type');
      const doneItems = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item as Json);
      const final = (events.at(-1)!.response as Json).output as Json[];
      assert.deepEqual(final, doneItems, 'the completed response lists exactly the items streamed');
      const expected = [
        ...(s.content.length ? ['message'] : []),
        ...toolCalls.map((c, i) => (s.calls[i]!.release ? `function_call:${c.name}:${c.arguments}` : 'message')),
      ];
      assert.deepEqual(doneItems.map((i) => (i.type === 'function_call' ? `function_call:${i.name}:${i.arguments}` : i.type)), expected);
      const argDeltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
      for (const d of argDeltas) {
        const index = d.output_index as number;
        assert.equal(final[index]!.type, 'function_call', 'argument deltas only for released calls');
      }
    }),
    { numRuns: 100 },
  );
});

test('stream gates: an event hiding a tool call behind a duplicate key goes out as parsed, never as sent', async () => {
  const hidden = '{"index":0,"id":"c","type":"function","function":{"name":"place_order","arguments":"{}"}}';
  const chat: string[] = [];
  const chatGate = new ChatStreamGate({
    judge: async () => ({ kind: 'release' }),
    write: (b) => chat.push(new TextDecoder().decode(b)),
    stripUsageChunk: false,
    onUsage: () => {},
    onTerminate: () => {},
  });
  const chunk = `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[${hidden}],"tool_calls":null},"finish_reason":null}]}\n\n`;
  for (const e of new SseParser().push(new TextEncoder().encode(chunk))) chatGate.push(e);
  await chatGate.finish();
  assert.ok(!chat.join('').includes('place_order'), chat.join(''));

  const responses: string[] = [];
  const responsesGate = new ResponsesStreamGate({ judge: async () => ({ kind: 'release' }), write: (b) => responses.push(new TextDecoder().decode(b)), onUsage: () => {}, onTerminate: () => {} });
  const item = '{"type":"function_call","name":"place_order","arguments":"{}","call_id":"c","id":"fc"}';
  const ev = `event: response.output_item.added\ndata: {"type":"response.output_item.added","output_index":0,"item":${item},"item":{"type":"message","id":"m","content":[]},"sequence_number":0}\n\n`;
  for (const e of new SseParser().push(new TextEncoder().encode(ev))) responsesGate.push(e);
  await responsesGate.finish();
  assert.ok(!responses.join('').includes('place_order'), responses.join(''));
});
