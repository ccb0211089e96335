/**
 * Gates a streamed chat completion (`chat.completion.chunk` events) on its way to the agent.
 *
 * Text, reasoning and any other delta fields pass through as the upstream's own bytes, as soon as they
 * arrive. A tool call's deltas (function, custom, or of a type the gatekeeper does not know: output-items.ts) are
 * held from its first delta until the call is complete — the next tool index starts or the choice finishes — then
 * decided. Allowed: the held deltas are released with the index renumbered so the agent sees 0, 1, 2... Withheld:
 * an assistant content delta states the reason instead, and when no call of a choice survives,
 * `finish_reason: "tool_calls"` becomes `"stop"`. A legacy `function_call` delta is held and decided the same way.
 */
import { GateHttpError } from '../../http/errors.js';
import { sseErrorEvent } from './errors.js';
import { OrderedOutput } from '../../llm/ordered-output.js';
import { ItemClassifier } from './output-items.js';
import { legacyCall } from './chat-json.js';
import { encodeSse, type SseEvent } from '../../llm/sse.js';
import type { ProposedToolCall, ToolVerdict } from '../../llm/tool-judge.js';

type Json = Record<string, unknown>;

interface HeldDelta {
  envelope: Json;
  choice: Json;
  /** The tool call's delta, or the legacy `function_call` delta. */
  toolCall: Json;
}

interface OpenToolCall {
  index: number;
  /** The call as its deltas built it: id, type, `function` / `custom` with their text joined. */
  merged: Json;
  /** Set when a delta contradicts an earlier one (another type or id): the call is withheld. */
  conflict?: string;
  legacy: boolean;
  held: HeldDelta[];
}

interface ChoiceState {
  open?: OpenToolCall;
  legacy?: OpenToolCall;
  released: number;
  withheld: number;
  legacyWithheld: boolean;
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
  /** How unknown tool-call types are treated (default: withheld). */
  classifier?: ItemClassifier;
}

export class ChatStreamGate {
  private readonly out: OrderedOutput;
  private readonly choices = new Map<number, ChoiceState>();
  private readonly classifier: ItemClassifier;
  private terminated = false;

  constructor(private readonly options: ChatStreamOptions) {
    this.out = new OrderedOutput(options.write);
    this.classifier = options.classifier ?? new ItemClassifier();
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
      // Bytes that mention calls the parse did not see (duplicate or escaped keys) go out as parsed, never as sent.
      return this.out.bytes(mayHideCalls(event.data) ? encodeSse(JSON.stringify(chunk)) : event.raw);
    }
    this.gate(chunk, choices as Json[]);
  }

  /** Resolves when every held call has been decided and written. */
  finish(): Promise<void> {
    for (const [index, state] of this.choices) this.completeAll(index, state);
    return this.out.drain();
  }

  private needsGating(choice: Json): boolean {
    const delta = choice?.delta as Json | undefined;
    if (delta && Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) return true;
    if (delta && delta.function_call != null) return true;
    if (choice?.finish_reason == null) return false;
    const state = this.choices.get(choice.index as number);
    return state !== undefined && (state.open !== undefined || state.legacy !== undefined || state.withheld > 0 || state.legacyWithheld);
  }

  private completeAll(index: number, state: ChoiceState): void {
    if (state.open) this.complete(index, state, state.open);
    if (state.legacy) this.complete(index, state, state.legacy);
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
      state = { released: 0, withheld: 0, legacyWithheld: false, content: '', reasoning: '' };
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
      const toolCalls = delta && Array.isArray(delta.tool_calls) ? (delta.tool_calls as unknown[]).map(asObject) : [];
      for (const toolCall of toolCalls) this.holdDelta(index, state, envelope, choiceRest, toolCall);
      if (delta?.function_call != null) this.holdLegacy(state, envelope, choiceRest, asObject(delta.function_call));
      const { tool_calls: _held, function_call: _legacy, ...deltaRest } = delta ?? {};
      if (finish_reason != null) {
        this.completeAll(index, state);
        passOn.push({ ...choiceRest, delta: deltaRest, finish_reason });
      } else if (toolCalls.length === 0 && delta?.function_call == null) {
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
        if (c.finish_reason === 'function_call' && state.legacyWithheld) c.finish_reason = 'stop';
      }
      this.emit({ ...envelope, choices: passOn });
    });
  }

  private holdDelta(choiceIndex: number, state: ChoiceState, envelope: Json, choice: Json, toolCall: Json): void {
    const index = typeof toolCall.index === 'number' ? toolCall.index : 0;
    if (state.open && state.open.index !== index) this.complete(choiceIndex, state, state.open);
    state.open ??= { index, merged: {}, legacy: false, held: [] };
    merge(state.open, toolCall);
    state.open.held.push({ envelope, choice, toolCall });
  }

  private holdLegacy(state: ChoiceState, envelope: Json, choice: Json, fc: Json): void {
    state.legacy ??= { index: -1, merged: {}, legacy: true, held: [] };
    merge(state.legacy, { function: fc });
    state.legacy.held.push({ envelope, choice, toolCall: fc });
  }

  private complete(choiceIndex: number, state: ChoiceState, call: OpenToolCall): void {
    if (call.legacy) state.legacy = undefined;
    else state.open = undefined;
    const proposed = call.legacy ? legacyCall(call.merged.function) : this.classifier.chatToolCall(call.merged);
    const verdict = this.options.judge(call.conflict ? { ...proposed, withhold: call.conflict } : proposed);
    this.out.step(async () => {
      const v = await verdict;
      if (this.terminated) return;
      if (v.kind === 'release') {
        const index = call.legacy ? -1 : state.released++;
        for (const h of call.held) {
          const delta = call.legacy ? { function_call: h.toolCall } : { tool_calls: [{ ...h.toolCall, index }] };
          this.emit({ ...h.envelope, choices: [{ ...h.choice, delta, finish_reason: null }] });
        }
        return;
      }
      if (v.kind === 'replace') {
        if (call.legacy) state.legacyWithheld = true;
        else state.withheld++;
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

const asObject = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : { type: typeof v, value: v });

/** A second `tool_calls` or `function_call` key, or an escape that could spell one, may hide a call from the parse. */
function mayHideCalls(data: string): boolean {
  return data.includes('"tool_calls"') || data.includes('"function_call"') || data.includes('\\u');
}

/**
 * Adds one delta to the call it continues: `function.name`/`arguments` and `custom.name`/`input` are text joined
 * across deltas, every other field is set once. A later delta that says otherwise (another id or type) is a
 * conflict: the agent's client could read the call either way.
 */
function merge(call: OpenToolCall, delta: Json): void {
  for (const [key, value] of Object.entries(delta)) {
    if (key === 'index' || value == null) continue;
    if ((key === 'function' || key === 'custom') && typeof value === 'object') {
      const into = (call.merged[key] ??= {}) as Json;
      for (const [field, piece] of Object.entries(value as Json)) {
        if (piece == null) continue;
        if (typeof piece === 'string' && (into[field] === undefined || typeof into[field] === 'string')) into[field] = ((into[field] as string | undefined) ?? '') + piece;
        else call.conflict ??= `its ${key}.${field} is not text`;
      }
      continue;
    }
    if (key in call.merged && call.merged[key] !== value && value !== '') call.conflict ??= `its deltas disagree on ${key}`;
    else if (!(key in call.merged) && value !== '') call.merged[key] = value;
  }
}

function hasValues(obj: Json): boolean {
  for (const key in obj) if (obj[key] != null && obj[key] !== '') return true;
  return false;
}
