/**
 * Gates a streamed Claude message (the Messages API's server-sent events) on its way to the agent.
 *
 * Text, thinking and the blocks of tools Anthropic runs itself pass as they arrive. A block the agent would act on
 * (`tool_use`, or a block of unknown type) is held from its `content_block_start` until its `content_block_stop`,
 * then decided on the input its `input_json_delta` pieces spell. Allowed: its events go out as they came.
 * Withheld: a text block stating the reason takes its index, so indices stay as the client expects them, and when
 * no `tool_use` survives, `stop_reason: "tool_use"` in `message_delta` becomes `"end_turn"`. Every event is sent as
 * the gatekeeper parsed it (never as bytes another parser might read otherwise); events of unknown types are left
 * out. Clients place blocks by the order they start in, so a stream that interleaves blocks, skips an index or
 * addresses a block that is not open is ended with an error rather than passed on in a form the client would
 * assemble differently from what was decided.
 */
import { GateHttpError } from '../../http/errors.js';
import { OrderedOutput } from '../../llm/ordered-output.js';
import { encodeSse, type SseEvent } from '../../llm/sse.js';
import type { StreamGate } from '../../llm/stream.js';
import type { ProposedToolCall, ToolVerdict } from '../../llm/tool-judge.js';
import type { BlockClassifier } from './content.js';
import { anthropicErrorEvent } from './errors.js';
import { asBlock, gateMessage, textBlock } from './message-json.js';

type Json = Record<string, unknown>;

export interface MessageStreamOptions {
  judge: (call: ProposedToolCall) => Promise<ToolVerdict>;
  write: (bytes: Uint8Array) => void;
  classifier: BlockClassifier;
  /** Called once when a withheld block ends the stream with an error; the upstream should be abandoned. */
  onTerminate: (error: GateHttpError) => void;
}

interface HeldBlock {
  block: Json;
  events: Json[];
  /** The input its `input_json_delta` pieces spell. */
  input: string;
  deltas: number;
  conflict?: string;
}

/** The block being streamed: clients address blocks by their position, so one is open at a time, in order. */
interface OpenBlock {
  index: number;
  held?: HeldBlock;
}

/** The Messages API's event types; others are read by no client the gatekeeper knows of, and are left out. */
const KNOWN_EVENTS = new Set(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop', 'ping', 'error']);

export class MessageStreamGate implements StreamGate {
  private readonly out: OrderedOutput;
  private open: OpenBlock | undefined;
  /** Index the next block must start at (clients append blocks in the order they start). */
  private next = 0;
  private released = 0;
  private terminated = false;
  /** Set at an order violation: nothing after it is read. */
  private broken = false;
  private text = '';
  private thinking = '';
  private startUsage: Json = {};
  private finalUsage: Json | undefined;
  private responseModel: string | undefined;

  constructor(private readonly options: MessageStreamOptions) {
    this.out = new OrderedOutput(options.write);
  }

  /** Text and thinking streamed so far, for the reasoning trace of a tool call's decision. */
  assistantSoFar(): { content: string; reasoning?: string } {
    return this.thinking ? { content: this.text, reasoning: this.thinking } : { content: this.text };
  }

  /** The usage the stream reported (its start merged with its final `message_delta`), once it has. */
  usage(): { usage: Json; model: string | undefined } | undefined {
    return this.finalUsage ? { usage: { ...this.startUsage, ...this.finalUsage }, model: this.responseModel } : undefined;
  }

  push(event: SseEvent): void {
    if (this.terminated || this.broken) return;
    if (event.data === '') return;
    let ev: Json;
    try {
      ev = JSON.parse(event.data) as Json;
    } catch {
      return this.out.bytes(event.raw);
    }
    if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) return this.out.bytes(event.raw);
    const type = ev.type;
    if (typeof type !== 'string' || !KNOWN_EVENTS.has(type)) return;
    if (type === 'error') return this.out.bytes(encodeSse(JSON.stringify(ev), 'error'));
    if (type === 'ping') return this.out.step(() => this.emit(ev));
    if (type === 'message_start') return this.messageStart(ev);
    if (this.open && (type === 'message_delta' || type === 'message_stop')) return this.violation(`${type} before block ${this.open.index} stopped`);
    if (type === 'message_delta') return this.messageDelta(ev);
    if (type === 'message_stop') return this.out.step(() => this.emit(ev));
    const index = ev.index;
    if (type === 'content_block_start') {
      if (this.open) return this.violation(`block ${String(index)} started while block ${this.open.index} was open`);
      if (index !== this.next) return this.violation(`block ${String(index)} started where block ${this.next} was due`);
      this.next++;
      return this.blockStart(index, ev);
    }
    if (!this.open || index !== this.open.index) return this.violation(`${type} for block ${String(index)}, which is not open`);
    const { held } = this.open;
    if (type === 'content_block_delta') return held ? this.holdDelta(held, ev) : this.passDelta(ev);
    this.open = undefined;
    if (held) return this.complete(index, held, ev);
    this.out.step(() => this.emit(ev));
  }

  /** Resolves when every held block has been decided and written; a block cut off mid-stream is never released. */
  finish(): Promise<void> {
    this.open = undefined;
    return this.out.drain();
  }

  private messageStart(ev: Json): void {
    const message = (ev.message ?? {}) as Json;
    if (message.usage && typeof message.usage === 'object') this.startUsage = message.usage as Json;
    if (typeof message.model === 'string') this.responseModel = message.model;
    const content = Array.isArray(message.content) ? message.content : [];
    // Clients append later blocks after any the message arrives with.
    this.next = content.length;
    if (content.length === 0) return this.out.step(() => this.emit(ev));
    // Blocks announced with the message itself become part of the client's message: they are decided too.
    this.out.step(async () => {
      const failure = await gateMessage(message, this.options.judge, this.options.classifier);
      if (failure) return this.terminate(failure);
      this.emit(ev);
    });
  }

  private messageDelta(ev: Json): void {
    if (ev.usage && typeof ev.usage === 'object') this.finalUsage = ev.usage as Json;
    // Goes out after every held block is decided, with the stop reason true to what the agent got.
    this.out.step(() => {
      const delta = ev.delta as Json | undefined;
      if (delta?.stop_reason === 'tool_use' && this.released === 0) ev.delta = { ...delta, stop_reason: 'end_turn' };
      this.emit(ev);
    });
  }

  private blockStart(index: number, ev: Json): void {
    const block = asBlock(ev.content_block);
    if (this.options.classifier.block(block).role === 'action') {
      this.open = { index, held: { block, events: [ev], input: '', deltas: 0 } };
      return;
    }
    this.open = { index };
    this.out.step(() => this.emit(ev));
  }

  private holdDelta(held: HeldBlock, ev: Json): void {
    held.events.push(ev);
    const delta = (ev.delta ?? {}) as Json;
    if (held.block.type !== 'tool_use') return;
    if (delta.type !== 'input_json_delta' || typeof delta.partial_json !== 'string') {
      held.conflict ??= `the stream sent a ${String(delta.type)} delta for a tool_use block`;
      return;
    }
    held.input += delta.partial_json;
    held.deltas++;
  }

  private passDelta(ev: Json): void {
    const delta = (ev.delta ?? {}) as Json;
    if (delta.type === 'text_delta' && typeof delta.text === 'string') this.text += delta.text;
    if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') this.thinking += delta.thinking;
    this.out.step(() => this.emit(ev));
  }

  private complete(index: number, held: HeldBlock, stop: Json): void {
    held.events.push(stop);
    const { block } = held;
    const announced = block.input;
    const empty = announced === undefined || (announced !== null && typeof announced === 'object' && !Array.isArray(announced) && Object.keys(announced).length === 0);
    if (held.deltas > 0 && !empty) held.conflict ??= 'the stream announced one input and streamed another';
    const role = this.options.classifier.block(block, held.deltas > 0 ? { text: held.input } : undefined);
    const call = role.role === 'action' ? role.call : this.options.classifier.unknownBlock(block);
    const verdict = this.options.judge(held.conflict ? { ...call, withhold: held.conflict } : call);
    this.out.step(async () => {
      const v = await verdict;
      if (this.terminated) return;
      if (v.kind === 'release') {
        if (block.type === 'tool_use') this.released++;
        for (const ev of held.events) this.emit(ev);
      } else if (v.kind === 'replace') {
        this.text += (this.text ? '\n\n' : '') + v.message;
        this.emit({ type: 'content_block_start', index, content_block: textBlock('') });
        this.emit({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: v.message } });
        this.emit({ type: 'content_block_stop', index });
      } else {
        this.terminate(v.error);
      }
    });
  }

  /** A stream out of the protocol's order cannot be passed on faithfully: it ends here, after what was decided. */
  private violation(what: string): void {
    this.open = undefined;
    this.broken = true;
    const error = new GateHttpError('upstream_error', `the upstream's stream is out of order (${what}); the gatekeeper ended it`);
    this.out.step(() => this.terminate(error));
  }

  private terminate(error: GateHttpError): void {
    this.terminated = true;
    this.options.write(anthropicErrorEvent(error).raw);
    this.options.onTerminate(error);
  }

  private emit(ev: Json): void {
    if (!this.terminated) this.options.write(encodeSse(JSON.stringify(ev), ev.type as string));
  }
}
