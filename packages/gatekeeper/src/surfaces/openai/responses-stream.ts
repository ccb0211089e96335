/**
 * Gates a streamed Responses API call. The events of an output item the agent would act on (output-items.ts:
 * function, custom, shell, computer, patch calls, MCP approval requests, items of unknown type) are held from
 * `output_item.added` until `output_item.done`, then the finished item is decided: released, or replaced in the
 * same output slot by an assistant message stating the reason. Released, the agent gets the item's events as they
 * came, after checking that their pieces (argument deltas, the first sight of the item) agree with the finished
 * item the policy judged; pieces of kinds the gatekeeper cannot check are left out (the finished item carries all
 * of it). Everything else passes through as it arrives.
 *
 * The response object in `response.completed` (and the other lifecycle events) is what SDKs hand the agent as the
 * final result, so its `output` is gated too: decided items appear exactly as judged, and an item the stream never
 * showed is decided there. Once the event count has changed, `sequence_number` is rewritten so the agent sees an
 * unbroken sequence.
 */
import { isDeepStrictEqual } from 'node:util';
import type { GateHttpError } from '../../http/errors.js';
import { sseErrorEvent } from './errors.js';
import { OrderedOutput } from '../../llm/ordered-output.js';
import { ItemClassifier } from './output-items.js';
import { gateResponseObject, replacementMessage } from './responses-json.js';
import { encodeSse, type SseEvent } from '../../llm/sse.js';
import type { ProposedToolCall, ToolVerdict } from '../../llm/tool-judge.js';

type Json = Record<string, unknown>;

export interface ResponsesStreamOptions {
  judge: (call: ProposedToolCall) => Promise<ToolVerdict>;
  write: (bytes: Uint8Array) => void;
  onUsage: (usage: unknown, model: string | undefined) => void;
  onTerminate: (error: GateHttpError) => void;
  /** What the request offered and how unknown items are treated (default: nothing hosted, unknown withheld). */
  classifier?: ItemClassifier;
}

/** Events of a held item that are forwarded on release, with the field of the finished item their text builds. */
const PIECES: Record<string, { item: string; field: string; final: boolean }> = {
  'response.function_call_arguments.delta': { item: 'function_call', field: 'arguments', final: false },
  'response.function_call_arguments.done': { item: 'function_call', field: 'arguments', final: true },
  'response.custom_tool_call_input.delta': { item: 'custom_tool_call', field: 'input', final: false },
  'response.custom_tool_call_input.done': { item: 'custom_tool_call', field: 'input', final: true },
};
/** Fields that name an item: its first sight in `output_item.added` must agree with the finished item on them. */
const IDENTITY = ['type', 'id', 'call_id', 'name', 'namespace', 'server_label'];

export class ResponsesStreamGate {
  private readonly out: OrderedOutput;
  private readonly classifier: ItemClassifier;
  /** Held action items by output_index: their events so far. */
  private readonly held = new Map<number, Json[]>();
  /** What each decided output slot holds now: the released item as judged, or the replacement message. */
  private readonly settled = new Map<number, Json>();
  /** Slots whose item is finished: later events for them would change what was judged, and are dropped. */
  private readonly closed = new Set<number>();
  private nextSequence: number | undefined;
  private terminated = false;
  private text = '';

  constructor(private readonly options: ResponsesStreamOptions) {
    this.out = new OrderedOutput(options.write);
    this.classifier = options.classifier ?? new ItemClassifier();
  }

  assistantSoFar(): { content: string } {
    return { content: this.text };
  }

  push(event: SseEvent): void {
    if (this.terminated) return;
    let ev: Json;
    try {
      ev = JSON.parse(event.data) as Json;
    } catch {
      return this.out.bytes(event.raw);
    }
    if (ev === null || typeof ev !== 'object') return this.out.bytes(event.raw);
    const type = ev.type;
    const index = ev.output_index;
    if (type === 'response.output_text.delta' && typeof ev.delta === 'string') this.text += ev.delta;
    if (typeof index === 'number' && this.closed.has(index)) return;
    const held = typeof index === 'number' ? this.held.get(index) : undefined;
    if (held) {
      held.push(ev);
      if (type === 'response.output_item.done') this.complete(index as number, held);
      return;
    }
    if ((type === 'response.output_item.added' || type === 'response.output_item.done') && this.isAction(ev.item)) {
      // An action item without a slot cannot be placed, decided or replaced: it is not passed on.
      if (!isSlot(index)) return;
      if (type === 'response.output_item.added') this.held.set(index, [ev]);
      else this.complete(index, [ev]);
      return;
    }
    if (ev.item !== undefined && this.isAction(ev.item)) {
      // An action item riding on an event of another type is read by nobody the gatekeeper knows of: left out.
      delete ev.item;
      return this.out.step(() => this.emit(ev));
    }
    const response = ev.response as Json | undefined;
    if (response && typeof response === 'object') {
      if (response.usage != null) this.options.onUsage(response.usage, typeof response.model === 'string' ? response.model : undefined);
      return this.out.step(async () => {
        const failure = await gateResponseObject(response, this.options.judge, this.classifier, (i) => this.settled.get(i));
        if (failure) return this.terminate(failure);
        this.emit(ev);
      });
    }
    this.out.step(() => this.pass(ev, event));
  }

  /** Resolves when every held call has been decided and written. */
  finish(): Promise<void> {
    // A stream cut inside an action item: the item is incomplete and is never released.
    this.held.clear();
    return this.out.drain();
  }

  private isAction(item: unknown): boolean {
    return item !== null && typeof item === 'object' && this.classifier.responseItem(item as Json).role === 'action';
  }

  private complete(index: number, events: Json[]): void {
    this.held.delete(index);
    this.closed.add(index);
    const done = events.at(-1)!;
    const first = asObject(events[0]!.item);
    const finished = done.type === 'response.output_item.done' ? asObject(done.item) : undefined;
    const judged = finished ?? first;
    // A finished item that is passive while its first sight was an action is judged as that action (and withheld).
    const role = [judged, first].map((i) => this.classifier.responseItem(i)).find((r) => r.role === 'action');
    const call = role?.role === 'action' ? role.call : this.classifier.unknownItem(judged, '/v1/responses');
    const mismatch = disagreement(events, judged);
    const verdict = this.options.judge(mismatch ? { ...call, withhold: mismatch } : call);
    this.out.step(async () => {
      const v = await verdict;
      if (this.terminated) return;
      if (v.kind === 'release') {
        this.settled.set(index, judged);
        for (const ev of events) if (ev.type === 'response.output_item.added' || ev.type === 'response.output_item.done' || PIECES[ev.type as string]) this.emit(ev);
      } else if (v.kind === 'replace') {
        const message = replacementMessage(judged, v.message, index);
        this.settled.set(index, message);
        for (const ev of messageEvents(index, message, v.message)) this.emit(ev);
      } else {
        this.terminate(v.error);
      }
    });
  }

  private terminate(error: GateHttpError): void {
    this.terminated = true;
    this.options.write(sseErrorEvent(error, this.nextSequence));
    this.options.onTerminate(error);
  }

  /**
   * Forwards the upstream's bytes unless the event's sequence number must change, or the bytes could be read
   * another way than this parse (a second `"type"` key, or escapes that could spell one): then it goes out as parsed.
   */
  private pass(ev: Json, event: SseEvent): void {
    const seq = ev.sequence_number;
    if (readsOneWay(event.data) && (typeof seq !== 'number' || this.nextSequence === undefined || seq === this.nextSequence)) {
      if (typeof seq === 'number') this.nextSequence = seq + 1;
      this.options.write(event.raw);
      return;
    }
    this.emit(ev);
  }

  private emit(ev: Json): void {
    if (this.terminated) return;
    if (typeof ev.sequence_number === 'number' || this.nextSequence !== undefined) {
      const seq = this.nextSequence ?? (ev.sequence_number as number);
      ev.sequence_number = seq;
      this.nextSequence = seq + 1;
    }
    this.options.write(encodeSse(JSON.stringify(ev), ev.type as string));
  }
}

const asObject = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const isSlot = (index: unknown): index is number => typeof index === 'number' && Number.isInteger(index) && index >= 0;

function readsOneWay(data: string): boolean {
  const first = data.indexOf('"type"');
  return (first === -1 || data.indexOf('"type"', first + 1) === -1) && !data.includes('\\u');
}

/** Why the held events do not describe the finished item (`judged`), if they do not. */
function disagreement(events: Json[], judged: Json): string | undefined {
  const first = events[0]!;
  const announced = events.filter((e) => e.type === 'response.output_item.added' || e.type === 'response.output_item.done').length;
  if (announced > (first.type === 'response.output_item.added' ? 2 : 1)) return 'the stream announced the item more than once';
  if (first.type === 'response.output_item.added') {
    const seen = (first.item ?? {}) as Json;
    for (const key of IDENTITY) {
      if (key in seen && !isDeepStrictEqual(seen[key], judged[key])) return `the stream announced the item with another ${key} than it finished with`;
    }
  }
  const built = new Map<string, string>();
  for (const ev of events) {
    const piece = PIECES[ev.type as string];
    if (!piece) continue;
    if (judged.type !== piece.item) return `the stream sent ${String(ev.type)} for an item of type ${String(judged.type)}`;
    const text = piece.final ? ev[piece.field] : ev.delta;
    if (typeof text !== 'string') return `the stream sent ${String(ev.type)} without its text`;
    if (piece.final) {
      if (text !== judged[piece.field]) return `the stream's ${piece.field} differ from the finished item's`;
    } else {
      built.set(piece.field, (built.get(piece.field) ?? '') + text);
    }
  }
  for (const [field, text] of built) if (text !== judged[field]) return `the stream's ${field} pieces differ from the finished item's`;
  return undefined;
}

/** The events a streamed assistant message with one text part consists of. */
function messageEvents(outputIndex: number, message: Json, text: string): Json[] {
  const itemId = message.id;
  const part = { type: 'output_text', text, annotations: [], logprobs: [] };
  const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
  return [
    { type: 'response.output_item.added', output_index: outputIndex, item: { ...message, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', ...at, part: { ...part, text: '' } },
    { type: 'response.output_text.delta', ...at, delta: text, logprobs: [] },
    { type: 'response.output_text.done', ...at, text, logprobs: [] },
    { type: 'response.content_part.done', ...at, part },
    { type: 'response.output_item.done', output_index: outputIndex, item: message },
  ];
}
