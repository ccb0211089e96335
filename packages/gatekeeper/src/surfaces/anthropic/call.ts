/**
 * One Messages API call through the gatekeeper: read the body into the `llm.request` action, run it through the
 * gate's lifecycle, and — as its execution — send the judged body to the model's upstreams (retries and fallbacks:
 * llm/dispatch.ts) with the gatekeeper's own `x-api-key` and `anthropic-version`, gating every block the agent
 * would act on before the agent sees it. The escrow settles from the usage Claude reports.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Executed, Settlement } from '../../gate/index.js';
import { attemptOf, beginAttempt, type AttemptBase } from '../../http/attempt.js';
import { GateHttpError, refusalError } from '../../http/errors.js';
import { readJsonBody, sendJson } from '../../http/router.js';
import { sendJudged, type LlmSurfaceDeps } from '../../llm/exchange.js';
import { inGenAiSpan } from '../../llm/genai-span.js';
import { pumpStream, type StreamProtocol } from '../../llm/stream.js';
import { judgeToolCall, type ProposedToolCall, type ToolVerdict } from '../../llm/tool-judge.js';
import type { Upstream } from '../../llm/upstreams.js';
import { passedResponseHeaders, upstreamErrorOf, type UpstreamResponse } from '../../upstream/index.js';
import { BlockClassifier, offeredClientTools } from './content.js';
import { anthropicErrorEvent, anthropicUpstreamError } from './errors.js';
import { gateMessage } from './message-json.js';
import { MessageStreamGate } from './message-stream.js';
import { summarizeMessages, type MessagesSummary } from './request.js';

type Json = Record<string, unknown>;

/** The Messages API's first version, sent when neither the agent nor the configuration names one. */
const DEFAULT_VERSION = '2023-06-01';


/** What the handler still has to do once the lifecycle is over: nothing, or answer with this error. */
type CallResult = GateHttpError | undefined;

export async function handleMessages(deps: LlmSurfaceDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req, deps.limits, deps.bodyLimit);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new GateHttpError('bad_request', 'request body must be a JSON object');
  const request = body as Json;
  const model = request.model;
  if (typeof model !== 'string' || model === '') throw new GateHttpError('bad_request', 'model: Field required (a model name)');
  const version = req.headers['anthropic-version'];
  const summary = summarizeMessages(model, request, { betas: betasOf(req), ...(typeof version === 'string' && version !== '' ? { version } : {}) });
  const route = deps.models.route(model);
  const base = await beginAttempt(req, deps.surface.auth);
  const context = { ...base.context, conversation: summary.conversation };
  const call = new MessagesCall(deps, req, res, { request, model, summary, route, base, context });
  const attempt = attemptOf(base, 'anthropic', summary.action, { context, trace: summary.transcript });
  const span = { operation: 'chat' as const, model, request, upstreams: route };
  const result = await deps.surface.gate.run(attempt, (judged) => inGenAiSpan(deps.surface.telemetry, span, () => call.execute(judged.action.arguments as Json)));
  if (!result.ok) throw refusalError(result.refusal);
  if (result.value) throw result.value;
}

/** `anthropic-beta` (comma-separated, possibly repeated): features the agent asks for, which the policy sees. */
function betasOf(req: IncomingMessage): string[] {
  const raw = req.headers['anthropic-beta'];
  return [raw ?? []].flat().flatMap((v) => v.split(',')).map((b) => b.trim()).filter((b) => b !== '');
}

interface CallState {
  request: Json;
  model: string;
  summary: MessagesSummary;
  route: Upstream[];
  base: AttemptBase;
  context: AttemptBase['context'];
}

class MessagesCall {
  private readonly abort = new AbortController();
  private readonly classifier: BlockClassifier;
  private clientGone = false;
  private upstream!: Upstream;

  constructor(
    private readonly deps: LlmSurfaceDeps,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly s: CallState,
  ) {
    this.classifier = new BlockClassifier(offeredClientTools(s.request), deps.toolCalls.unknownItems ?? 'withhold', deps.limits);
    res.on('close', () => {
      if (res.writableFinished) return;
      this.clientGone = true;
      this.abort.abort();
    });
  }

  /** `judgedArgs`: the action's arguments as the policy saw them (its API version and betas are what goes upstream). */
  async execute(judgedArgs: Json): Promise<Executed<CallResult>> {
    const streaming = this.s.request.stream === true;
    const protocol = {
      version: typeof judgedArgs.api_version === 'string' ? judgedArgs.api_version : DEFAULT_VERSION,
      betas: Array.isArray(judgedArgs.betas) ? (judgedArgs.betas as string[]) : [],
    };
    // Re-serialized from the parse the action was made from, never the agent's bytes (duplicate keys read one way).
    const body = JSON.stringify(this.s.request);
    const sent = await sendJudged(this.s.route, (upstream) => ({ method: 'POST', ...upstream.pathFor('messages', this.s.model), headers: this.headersFor(upstream, protocol, streaming), body }), {
      deps: this.deps,
      model: this.s.model,
      abort: this.abort,
      res: this.res,
      clientGone: () => this.clientGone,
      errorBody: anthropicUpstreamError,
    });
    if ('done' in sent) return sent.done;
    const { answer, facts } = sent;
    this.upstream = sent.upstream;
    const contentType = String(answer.headers['content-type'] ?? '');
    if (!streaming || !contentType.includes('text/event-stream')) return this.whole(answer, facts);
    return this.stream(answer, facts);
  }

  /** The upstream's pinned `anthropic-version` wins over the one the agent asked for. */
  private headersFor(upstream: Upstream, protocol: { version: string; betas: string[] }, streaming: boolean): Record<string, string> {
    const { trace } = this.s.base;
    return {
      'content-type': 'application/json',
      accept: streaming ? 'text/event-stream' : 'application/json',
      'accept-encoding': 'identity',
      'anthropic-version': protocol.version,
      ...upstream.headers,
      ...(protocol.betas.length ? { 'anthropic-beta': protocol.betas.join(',') } : {}),
      traceparent: trace.traceparent,
      ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    };
  }

  private async whole(answer: UpstreamResponse, facts: Json): Promise<Executed<CallResult>> {
    let text: string;
    try {
      text = await answer.text();
    } catch (err) {
      throw upstreamErrorOf(this.upstream.client, err).toHttp();
    }
    let message: Json;
    try {
      message = JSON.parse(text) as Json;
      if (message === null || typeof message !== 'object' || Array.isArray(message)) throw new Error('not an object');
    } catch {
      return { value: new GateHttpError('upstream_error', `upstream "${this.upstream.name}" answered with a body that is not a JSON message`), settlement: { release: 'upstream response is not JSON' }, facts };
    }
    const failure = await gateMessage(message, this.judge(() => ({ request: this.s.summary.transcript, response: [assistantText(message)] })), this.classifier);
    const settlement = { settle: { usage: settlementUsage(message.usage), model: message.model ?? this.s.model } };
    if (failure) return { value: failure, settlement, facts };
    sendJson(this.res, answer.status, message, passedResponseHeaders(answer.headers, true) as Record<string, string>);
    return { value: undefined, settlement, facts: { ...facts, ...messageFacts(message, message.usage) } };
  }

  private async stream(answer: UpstreamResponse, facts: Json): Promise<Executed<CallResult>> {
    const { res, abort } = this;
    res.writeHead(200, { ...passedResponseHeaders(answer.headers, true), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const gate: MessageStreamGate = new MessageStreamGate({
      judge: this.judge(() => ({ request: this.s.summary.transcript, response: [{ role: 'assistant', ...gate.assistantSoFar() }] })),
      write: (bytes) => res.write(bytes),
      classifier: this.classifier,
      onTerminate: () => abort.abort(),
    });
    const cut = (reason: string): Settlement => {
      const soFar = gate.assistantSoFar();
      return { release: reason, progress: { streamed: true, outputChars: soFar.content.length + (soFar.reasoning?.length ?? 0) } };
    };
    const end = await pumpStream(answer, res, gate, this.upstream, ANTHROPIC_STREAM, abort);
    if (end === 'upstream_failed') return { value: undefined, settlement: cut('upstream stream failed'), facts };
    if (end === 'gate_fault') return { value: undefined, settlement: cut('gatekeeper fault while gating the stream'), facts };
    const reported = gate.usage();
    if (reported && !abort.signal.aborted) {
      const settle = { usage: settlementUsage(reported.usage), model: reported.model ?? this.s.model };
      return { value: undefined, settlement: { settle }, facts: { ...facts, ...messageFacts({ model: reported.model }, reported.usage) } };
    }
    const reason = this.clientGone ? 'client closed the connection' : abort.signal.aborted ? 'stream withheld' : 'stream ended without usage';
    return { value: undefined, settlement: cut(reason), facts };
  }

  private judge(trace: () => unknown): (call: ProposedToolCall) => Promise<ToolVerdict> {
    const scope = { gate: this.deps.surface.gate, surface: 'anthropic' as const, base: this.s.base, context: this.s.context, model: this.s.model, policy: this.deps.toolCalls, limits: this.deps.limits, trace };
    return (call) => judgeToolCall(scope, call);
  }
}

/** Errors in Anthropic streams are `error` events. */
const ANTHROPIC_STREAM: StreamProtocol = {
  isError: (event, parsed) => event.event === 'error' || (parsed as Json | null)?.type === 'error',
  errorEvent: anthropicErrorEvent,
};

/** The message's text and thinking as one assistant turn, for the reasoning trace. */
function assistantText(message: Json): { role: 'assistant'; content: string; reasoning?: string } {
  const blocks = Array.isArray(message.content) ? (message.content as Json[]) : [];
  const content = blocks.filter((b) => b?.type === 'text').map((b) => String(b.text ?? '')).join('');
  const reasoning = blocks.filter((b) => b?.type === 'thinking').map((b) => String(b.thinking ?? '')).join('\n');
  return reasoning ? { role: 'assistant', content, reasoning } : { role: 'assistant', content };
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/**
 * Claude's usage in the form budgets price: Anthropic counts cache reads and cache writes apart from
 * `input_tokens`; all three are prompt tokens, cache reads at the cached-input price. No usage: none.
 */
export function settlementUsage(raw: unknown): Json | undefined {
  if (raw === null || typeof raw !== 'object' || typeof (raw as Json).input_tokens !== 'number') return undefined;
  const u = raw as Json;
  const cached = count(u.cache_read_input_tokens);
  return {
    prompt_tokens: count(u.input_tokens) + count(u.cache_creation_input_tokens) + cached,
    completion_tokens: count(u.output_tokens),
    prompt_tokens_details: { cached_tokens: cached },
  };
}

/** What the outcome record and the GenAI span keep: Claude's own usage, the model that answered, why it stopped. */
function messageFacts(message: Json, usage: unknown): Json {
  return {
    ...(usage !== undefined ? { usage } : {}),
    ...(typeof message.model === 'string' ? { response_model: message.model } : {}),
    ...(typeof message.id === 'string' ? { response_id: message.id } : {}),
    ...(typeof message.stop_reason === 'string' ? { finish_reasons: [message.stop_reason] } : {}),
  };
}
