/**
 * Gates a streamed chat completion (`chat.completion.chunk` events) on its way to the agent.
 *
 * Text, reasoning and any other delta fields pass through as the upstream's own bytes, as soon as they
 * arrive. A tool call's deltas are held from its first delta until the call is complete — the next tool
 * index starts or the choice finishes — then decided. Allowed: the held deltas are released with the
 * index renumbered so the agent sees 0, 1, 2... Withheld: an assistant content delta states the reason
 * instead, and when no call of a choice survives, `finish_reason: "tool_calls"` becomes `"stop"`.
 */
import { GateHttpError } from '../../http/errors.js';
import { sseErrorEvent } from './errors.js';
import { OrderedOutput } from './ordered-output.js';
import { encodeSse, type SseEvent } from './sse.js';
import type { ProposedToolCall, ToolVerdict } from './tool-judge.js';

type Json = Record<string, unknown>;

interface HeldDelta {
  envelope: Json;
  choice: Json;
  toolCall: Json;
}

interface OpenToolCall {
  index: number;
  id?: string;
  name: string;
  arguments: string;
  held: HeldDelta[];
}

interface ChoiceState {
  open?: OpenToolCall;
  released: number;
  withheld: number;
  content: string;
  reasoning: string;
}

export interface ChatStreamOptions {
  judge: (call: ProposedToolCall) => Promise<ToolVerdict>;
  write: (bytes: Uint8Array) => void;
  /** The usage-only final chunk was requested by the gatekeeper, not the agent: do not forward it. */
  stripUsageChunk: boolean;
  /** Called with the final usage chunk's `usage` and the model that reported it. */
  onUsage: (usage: unknown, model: string | undefined) => void;
  /** Called once when a withheld call ends the stream with an error; the upstream should be abandoned. */
  onTerminate: (error: GateHttpError) => void;
}

export class ChatStreamGate {
  private readonly out: OrderedOutput;
  private readonly choices = new Map<number, ChoiceState>();
  private terminated = false;

  constructor(private readonly options: ChatStreamOptions) {
    this.out = new OrderedOutput(options.write);
  }

  /** Text the model produced so far per choice, for the reasoning trace of a tool call's decision. */
  assistantSoFar(): { content: string; reasoning?: string }[] {
    return [...this.choices.values()].map((c) => (c.reasoning ? { content: c.content, reasoning: c.reasoning } : { content: c.content }));
  }

  push(event: SseEvent): void {
    if (this.terminated) return;
    if (event.data === '' || event.data === '[DONE]' || event.event === 'error') return this.out.bytes(event.raw);
    let chunk: Json;
    try {
      chunk = JSON.parse(event.data) as Json;
    } catch {
      return this.out.bytes(event.raw);
    }
    const choices = chunk.choices;
    if (chunk.usage != null) {
      this.options.onUsage(chunk.usage, typeof chunk.model === 'string' ? chunk.model : undefined);
      if (this.options.stripUsageChunk && Array.isArray(choices) && choices.length === 0) return;
    }
    if (!Array.isArray(choices) || !choices.some((c) => this.needsGating(c as Json))) {
      if (Array.isArray(choices)) for (const c of choices) this.noteText(c as Json);
      // Bytes that mention tool_calls the parse did not see (duplicate keys) go out as parsed, never as sent.
      return this.out.bytes(event.data.includes('"tool_calls"') ? encodeSse(JSON.stringify(chunk)) : event.raw);
    }
    this.gate(chunk, choices as Json[]);
  }

  /** Resolves when every held call has been decided and written. */
  finish(): Promise<void> {
    for (const [index, state] of this.choices) if (state.open) this.complete(index, state);
    return this.out.drain();
  }

  private needsGating(choice: Json): boolean {
    const delta = choice.delta as Json | undefined;
    if (delta && Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) return true;
    if (choice.finish_reason == null) return false;
    const state = this.choices.get(choice.index as number);
    return state !== undefined && (state.open !== undefined || state.withheld > 0);
  }

  private noteText(choice: Json): void {
    const delta = choice.delta as Json | undefined;
    if (!delta) return;
    const hasContent = typeof delta.content === 'string' && delta.content !== '';
    const hasReasoning = typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '';
    if (!hasContent && !hasReasoning) return;
    const state = this.state(choice.index as number);
    if (hasContent) state.content += delta.content as string;
    if (hasReasoning) state.reasoning += delta.reasoning_content as string;
  }

  private state(index: number): ChoiceState {
    let state = this.choices.get(index);
    if (!state) {
      state = { released: 0, withheld: 0, content: '', reasoning: '' };
      this.choices.set(index, state);
    }
    return state;
  }

  private gate(chunk: Json, choices: Json[]): void {
    const { choices: _omit, ...envelope } = chunk;
    const passOn: Json[] = [];
    for (const choice of choices) {
      this.noteText(choice);
      const index = choice.index as number;
      const state = this.state(index);
      const { delta, finish_reason, ...choiceRest } = choice as Json & { delta?: Json };
      const toolCalls = delta && Array.isArray(delta.tool_calls) ? (delta.tool_calls as Json[]) : [];
      for (const toolCall of toolCalls) this.holdDelta(index, state, envelope, choiceRest, toolCall);
      const { tool_calls: _held, ...deltaRest } = delta ?? {};
      if (finish_reason != null) {
        if (state.open) this.complete(index, state);
        passOn.push({ ...choiceRest, delta: deltaRest, finish_reason });
      } else if (toolCalls.length === 0) {
        passOn.push(choice);
      } else if (hasValues(deltaRest)) {
        // e.g. `role` or content sent in the same chunk as a tool call's first delta.
        passOn.push({ ...choiceRest, delta: deltaRest, finish_reason: null });
      }
    }
    if (passOn.length === 0) return;
    // The rest of the chunk goes out after the calls completed above, with finish_reason corrected then.
    this.out.step(() => {
      for (const c of passOn) {
        const state = this.choices.get(c.index as number)!;
        if (c.finish_reason === 'tool_calls' && state.released === 0 && state.withheld > 0) c.finish_reason = 'stop';
      }
      this.emit({ ...envelope, choices: passOn });
    });
  }

  private holdDelta(choiceIndex: number, state: ChoiceState, envelope: Json, choice: Json, toolCall: Json): void {
    const index = typeof toolCall.index === 'number' ? toolCall.index : 0;
    if (state.open && state.open.index !== index) this.complete(choiceIndex, state);
    if (!state.open) state.open = { index, name: '', arguments: '', held: [] };
    const open = state.open;
    if (typeof toolCall.id === 'string' && toolCall.id !== '') open.id = toolCall.id;
    const fn = toolCall.function as Json | undefined;
    if (fn) {
      if (typeof fn.name === 'string') open.name += fn.name;
      if (typeof fn.arguments === 'string') open.arguments += fn.arguments;
    }
    open.held.push({ envelope, choice, toolCall });
  }

  private complete(choiceIndex: number, state: ChoiceState): void {
    const call = state.open!;
    state.open = undefined;
    const verdict = this.options.judge({ name: call.name, arguments: call.arguments, callId: call.id });
    this.out.step(async () => {
      const v = await verdict;
      if (this.terminated) return;
      if (v.kind === 'release') {
        const index = state.released++;
        for (const h of call.held) {
          this.emit({ ...h.envelope, choices: [{ ...h.choice, delta: { tool_calls: [{ ...h.toolCall, index }] }, finish_reason: null }] });
        }
        return;
      }
      if (v.kind === 'replace') {
        state.withheld++;
        const separator = state.content === '' ? '' : '\n\n';
        state.content += separator + v.message;
        const envelope = call.held[0]!.envelope;
        this.emit({ ...envelope, choices: [{ index: choiceIndex, delta: { content: separator + v.message }, finish_reason: null }] });
        return;
      }
      this.terminated = true;
      this.options.write(sseErrorEvent(v.error));
      this.options.onTerminate(v.error);
    });
  }

  private emit(chunk: Json): void {
    if (!this.terminated) this.options.write(encodeSse(JSON.stringify(chunk)));
  }
}

function hasValues(obj: Json): boolean {
  for (const key in obj) if (obj[key] != null && obj[key] !== '') return true;
  return false;
}
