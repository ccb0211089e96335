/**
 * Reasoning traces: for each agent session, the conversation that led to an action — messages, the model's
 * reasoning fields, tool calls and their results, and the chain of agents that handed the work on. The recorder
 * watches every decided input; when an action escalates, its session's trace is snapshotted (secrets redacted)
 * and stored as a ledger payload next to the approval request.
 */
import type { OagfInput } from '../spec/index.js';
import type { Redactor } from '../redact.js';

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
  /** Model answers already recorded (a response with several tool calls is judged once per call). */
  answers: Set<string>;
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

  /**
   * Records what a decided action adds to its session's trace. `conversation` is what the surface handed the gate
   * (attempt.trace): the request's messages, or for a proposed tool call `{ request, response }` with the model's
   * answer. Inputs without a session id are not traced.
   */
  observe(input: OagfInput, outcome: string, conversation?: unknown): void {
    const session = sessionOf(input);
    if (!session) return;
    const state = this.state(session);
    this.extendChain(state, input);
    const agent = input.agent.id;
    const time = input.time.now;
    const { request, response } = splitConversation(conversation);
    const seen = state.seen.get(agent) ?? 0;
    const fresh = request.length >= seen ? request.slice(seen) : request;
    for (const m of fresh) state.steps.push(...stepsOf(m, agent, time));
    let count = Math.max(seen, request.length);
    for (const m of response) {
      const key = JSON.stringify([agent, m.content ?? null, m.reasoning_content ?? m.reasoning ?? null]);
      if (state.answers.has(key)) continue;
      state.answers.add(key);
      // Tool calls in the answer are recorded below, one step per decided call, with their outcome.
      state.steps.push(...stepsOf({ ...m, role: 'assistant', tool_calls: [] }, agent, time));
      count += 1; // the agent repeats this answer in its next request
    }
    state.seen.set(agent, count);
    const { action } = input;
    if (action.kind !== 'llm.request') {
      const args = action.arguments ?? action.body;
      state.steps.push({
        kind: action.kind === 'llm.tool_call' || action.kind === 'mcp.tool_call' ? 'tool_call' : 'action',
        agent,
        time,
        tool: action.target.server && action.target.tool ? `${action.target.server}/${action.target.tool}` : action.target.tool ?? describeTarget(input),
        ...(args !== undefined ? { arguments: args } : {}),
        outcome,
      });
    }
    if (state.steps.length > this.limits.steps) state.steps.splice(0, state.steps.length - this.limits.steps);
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
      state = { chain: [], steps: [], seen: new Map(), answers: new Set() };
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

/** Request messages and model answers in what a surface passes as `attempt.trace`. */
function splitConversation(c: unknown): { request: ChatMessage[]; response: ChatMessage[] } {
  if (Array.isArray(c)) return { request: c as ChatMessage[], response: [] };
  if (!c || typeof c !== 'object') return { request: [], response: [] };
  const o = c as { request?: unknown; response?: unknown; messages?: unknown };
  if (Array.isArray(o.messages)) return { request: o.messages as ChatMessage[], response: [] };
  return { request: Array.isArray(o.request) ? (o.request as ChatMessage[]) : [], response: answersOf(o.response) };
}

/** Assistant messages in a chat completion, a Responses API object, or a stream's text-so-far per choice. */
function answersOf(r: unknown): ChatMessage[] {
  if (Array.isArray(r)) return r as ChatMessage[];
  if (!r || typeof r !== 'object') return [];
  const o = r as { choices?: { message?: ChatMessage }[]; output?: { type?: string; content?: unknown; summary?: unknown }[] };
  if (Array.isArray(o.choices)) return o.choices.map((c) => c.message).filter((m): m is ChatMessage => !!m);
  if (Array.isArray(o.output)) {
    const reasoning = o.output.filter((i) => i.type === 'reasoning').map((i) => textOf(i.summary ?? i.content)).join('\n');
    const content = o.output.filter((i) => i.type === 'message').map((i) => textOf(i.content)).join('\n');
    return content || reasoning ? [{ role: 'assistant', content, ...(reasoning ? { reasoning } : {}) }] : [];
  }
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
      ...(call.function?.arguments !== undefined ? { arguments: parseArguments(call.function.arguments) } : {}),
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
