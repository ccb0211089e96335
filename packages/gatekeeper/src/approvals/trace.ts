/**
 * Reasoning traces: for each agent session, the conversation that led to an action — messages, the model's
 * reasoning fields, tool calls and their results, and the chain of agents that handed the work on. The recorder
 * watches every decided input; when an action escalates, its session's trace is snapshotted (secrets redacted)
 * and stored as a ledger payload next to the approval request.
 */
import type { OagfInput } from '../spec/index.js';
import type { Redactor } from './redact.js';

export interface TraceStep {
  kind: 'message' | 'tool_call' | 'tool_result' | 'action';
  agent: string;
  time: string;
  role?: string;
  content?: string;
  reasoning?: string;
  tool?: string;
  arguments?: unknown;
  call_id?: string;
  outcome?: string;
}

export interface ReasoningTrace {
  session: string;
  /** Agents in the order they took part, the delegating agent first. */
  chain: { agent: string; owner?: string; reason?: string }[];
  steps: TraceStep[];
}

interface SessionState {
  chain: ReasoningTrace['chain'];
  steps: TraceStep[];
  /** Messages already recorded per agent: each LLM request repeats the conversation so far. */
  seen: Map<string, number>;
}

interface ChatMessage {
  role?: string;
  content?: unknown;
  reasoning_content?: unknown;
  reasoning?: unknown;
  tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[];
  tool_call_id?: string;
  name?: string;
}

export class TraceRecorder {
  private readonly sessions = new Map<string, SessionState>();

  constructor(
    private readonly redactor: Redactor,
    private readonly limits = { sessions: 1000, steps: 500 },
  ) {}

  /** Records what an input adds to its session's trace. Inputs without a session id are not traced. */
  observe(input: OagfInput, outcome?: string): void {
    const session = sessionOf(input);
    if (!session) return;
    const state = this.state(session);
    this.extendChain(state, input);
    const agent = input.agent.id;
    const time = input.time.now;
    const { action } = input;
    if (action.kind === 'llm.request') {
      const messages = messagesOf(action.arguments);
      const seen = state.seen.get(agent) ?? 0;
      const fresh = messages.length >= seen ? messages.slice(seen) : messages;
      for (const m of fresh) state.steps.push(...stepsOf(m, agent, time));
      state.seen.set(agent, messages.length);
    } else {
      state.steps.push({
        kind: action.kind === 'llm.tool_call' || action.kind === 'mcp.tool_call' ? 'tool_call' : 'action',
        agent,
        time,
        tool: action.target.tool ?? describeTarget(input),
        arguments: action.arguments ?? action.body,
        ...(outcome ? { outcome } : {}),
      });
    }
    if (state.steps.length > this.limits.steps) state.steps.splice(0, state.steps.length - this.limits.steps);
  }

  /** Adds the model's own words (content and reasoning) from an LLM response to the session's trace. */
  observeResponse(input: OagfInput, message: ChatMessage): void {
    const session = sessionOf(input);
    if (!session) return;
    const state = this.state(session);
    state.steps.push(...stepsOf(message, input.agent.id, input.time.now).filter((s) => s.kind === 'message'));
    // The agent repeats this message in its next request; count it as seen.
    state.seen.set(input.agent.id, (state.seen.get(input.agent.id) ?? 0) + 1);
  }

  /** The session's trace so far, secrets redacted; undefined when the session was never seen. */
  snapshot(input: OagfInput): ReasoningTrace | undefined {
    const session = sessionOf(input);
    const state = session ? this.sessions.get(session) : undefined;
    if (!session || !state) return undefined;
    return this.redactor.value({ session, chain: state.chain, steps: state.steps });
  }

  private state(session: string): SessionState {
    let state = this.sessions.get(session);
    if (!state) {
      state = { chain: [], steps: [], seen: new Map() };
      this.sessions.set(session, state);
      if (this.sessions.size > this.limits.sessions) this.sessions.delete(this.sessions.keys().next().value!);
    }
    return state;
  }

  private extendChain(state: SessionState, input: OagfInput): void {
    const hops = [
      ...input.agent.delegation.map((h) => ({ agent: h.agent, ...(h.owner ? { owner: h.owner } : {}), ...(h.reason ? { reason: h.reason } : {}) })),
      { agent: input.agent.id, ...(input.agent.owner ? { owner: input.agent.owner } : {}) },
    ];
    for (const hop of hops) {
      const known = state.chain.find((c) => c.agent === hop.agent);
      if (!known) state.chain.push(hop);
      else if (!known.reason && 'reason' in hop) Object.assign(known, hop);
    }
  }
}

export function sessionOf(input: OagfInput): string | undefined {
  return input.context.session_id ?? input.context.conversation?.id;
}

function describeTarget(input: OagfInput): string {
  const t = input.action.target;
  return t.api ? `${t.method ?? ''} ${t.api}${t.path ?? ''}`.trim() : input.action.kind;
}

/** The conversation in LLM request parameters: chat `messages` or Responses API `input`. */
function messagesOf(args: unknown): ChatMessage[] {
  if (!args || typeof args !== 'object') return [];
  const a = args as { messages?: unknown; input?: unknown };
  if (Array.isArray(a.messages)) return a.messages as ChatMessage[];
  if (Array.isArray(a.input)) return a.input as ChatMessage[];
  if (typeof a.input === 'string') return [{ role: 'user', content: a.input }];
  return [];
}

function stepsOf(m: ChatMessage, agent: string, time: string): TraceStep[] {
  const steps: TraceStep[] = [];
  const content = textOf(m.content);
  const reasoning = textOf(m.reasoning_content ?? m.reasoning);
  if (m.role === 'tool') {
    steps.push({ kind: 'tool_result', agent, time, role: 'tool', content, ...(m.tool_call_id ? { call_id: m.tool_call_id } : {}) });
    return steps;
  }
  if (content || reasoning) {
    steps.push({ kind: 'message', agent, time, role: m.role ?? 'user', ...(content ? { content } : {}), ...(reasoning ? { reasoning } : {}) });
  }
  for (const call of m.tool_calls ?? []) {
    steps.push({
      kind: 'tool_call',
      agent,
      time,
      tool: call.function?.name ?? 'unknown',
      arguments: parseArguments(call.function?.arguments),
      ...(call.id ? { call_id: call.id } : {}),
    });
  }
  return steps;
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('');
  if (v && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string') return (v as { text: string }).text;
  return '';
}

function parseArguments(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
