/**
 * Gates a streamed Responses API call. Events of a tool-call output item (`output_item.added`,
 * `function_call_arguments.delta/done`, `output_item.done`) are held until the item is done, then the
 * call is decided: released as they came, or replaced in the same output slot by an assistant message
 * stating the reason. Everything else passes through as it arrives. Once the event count has changed,
 * `sequence_number` is rewritten so the agent sees an unbroken sequence, and the final response object's
 * `output` is corrected to match what was streamed.
 */
import type { GateHttpError } from '../../http/errors.js';
import { sseErrorEvent } from './errors.js';
import { OrderedOutput } from './ordered-output.js';
import { proposedCallOf, replacementMessage } from './responses-json.js';
import { encodeSse, type SseEvent } from './sse.js';
import type { ProposedToolCall, ToolVerdict } from './tool-judge.js';

type Json = Record<string, unknown>;

const TOOL_CALL_TYPE = /"(function|custom_tool)_call"/;

export interface ResponsesStreamOptions {
  judge: (call: ProposedToolCall) => Promise<ToolVerdict>;
  write: (bytes: Uint8Array) => void;
  onUsage: (usage: unknown, model: string | undefined) => void;
  onTerminate: (error: GateHttpError) => void;
}

export class ResponsesStreamGate {
  private readonly out: OrderedOutput;
  /** Held tool-call items by output_index. */
  private readonly held = new Map<number, Json[]>();
  /** Replacement messages by withheld item id, to correct the final response object. */
  private readonly replaced = new Map<unknown, Json>();
  private nextSequence: number | undefined;
  private terminated = false;
  private text = '';

  constructor(private readonly options: ResponsesStreamOptions) {
    this.out = new OrderedOutput(options.write);
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
    const type = ev.type;
    const index = ev.output_index as number | undefined;
    if (type === 'response.output_text.delta' && typeof ev.delta === 'string') this.text += ev.delta;
    if (type === 'response.output_item.added' && proposedCallOf((ev.item ?? {}) as Json)) {
      this.held.set(index!, [ev]);
      return;
    }
    const held = index === undefined ? undefined : this.held.get(index);
    if (held) {
      held.push(ev);
      if (type === 'response.output_item.done') this.complete(index!, ev.item as Json, held);
      return;
    }
    if (type === 'response.output_item.done' && proposedCallOf((ev.item ?? {}) as Json)) {
      return this.complete(index!, ev.item as Json, [ev]);
    }
    const response = ev.response as Json | undefined;
    if (response && typeof response === 'object') {
      if (response.usage != null) this.options.onUsage(response.usage, typeof response.model === 'string' ? response.model : undefined);
      return this.out.step(() => {
        if (this.replaced.size > 0 && Array.isArray(response.output)) {
          response.output = (response.output as Json[]).map((item) => this.replaced.get(item.id) ?? item);
          return this.emit(ev);
        }
        this.pass(ev, event);
      });
    }
    this.out.step(() => this.pass(ev, event));
  }

  /** Resolves when every held call has been decided and written. */
  finish(): Promise<void> {
    // A stream cut inside a tool-call item: its call is incomplete and is never released.
    this.held.clear();
    return this.out.drain();
  }

  private complete(index: number, item: Json, events: Json[]): void {
    this.held.delete(index);
    const verdict = this.options.judge(proposedCallOf(item)!);
    this.out.step(async () => {
      const v = await verdict;
      if (this.terminated) return;
      if (v.kind === 'release') {
        for (const ev of events) this.emit(ev);
      } else if (v.kind === 'replace') {
        const message = replacementMessage(item, v.message);
        this.replaced.set(item.id, message);
        for (const ev of messageEvents(index, message, v.message)) this.emit(ev);
      } else {
        this.terminated = true;
        this.options.write(sseErrorEvent(v.error, this.nextSequence));
        this.options.onTerminate(v.error);
      }
    });
  }

  /**
   * Forwards the upstream's bytes unless the event's sequence number must change, or the bytes mention a
   * tool call this parse did not hold (duplicate keys): then the event goes out as parsed.
   */
  private pass(ev: Json, event: SseEvent): void {
    const seq = ev.sequence_number;
    const mentionsCall = TOOL_CALL_TYPE.test(event.data);
    if (!mentionsCall && (typeof seq !== 'number' || this.nextSequence === undefined || seq === this.nextSequence)) {
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
