/**
 * One OpenAI-compatible call through the gatekeeper: read the request into the `llm.request` action, run it
 * through the gate's lifecycle, and — as its execution — call the routed upstream and gate every tool call in
 * the response before the agent sees it. The lifecycle settles the budget escrow from what the execution reports
 * (the response's usage, or a release with how far a stream got).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Executed, ExecutionContext, Settlement } from '../../gate/index.js';
import { attemptOf, beginAttempt, type AttemptBase } from '../../http/attempt.js';
import { GateHttpError, refusalError } from '../../http/errors.js';
import { readJsonBody, sendJson } from '../../http/router.js';
import { sendJudged, type LlmSurfaceDeps } from '../../llm/exchange.js';
import { inGenAiSpan } from '../../llm/genai-span.js';
import { encodeSse, type SseEvent } from '../../llm/sse.js';
import { pumpStream, type StreamProtocol } from '../../llm/stream.js';
import { judgeToolCall, type ProposedToolCall, type ToolVerdict } from '../../llm/tool-judge.js';
import type { Endpoint, Upstream } from '../../llm/upstreams.js';
import { passedResponseHeaders, upstreamErrorOf, type UpstreamResponse } from '../../upstream/index.js';
import { ChatStreamGate } from './chat-stream.js';
import { gateChatCompletion } from './chat-json.js';
import { sseErrorData, upstreamErrorBody } from './errors.js';
import { summarizeRequest, type LlmRequestSummary } from './request-action.js';
import { ItemClassifier, offeredTools } from './output-items.js';
import { gateResponseObject } from './responses-json.js';
import { ResponsesStreamGate } from './responses-stream.js';

type Json = Record<string, unknown>;


export interface LlmCallTarget {
  endpoint: Endpoint;
  /** Azure URL scheme: the deployment named in the path is the model. */
  deployment?: string;
}

/** What the handler still has to do once the lifecycle is over: nothing, or answer with this error. */
type CallResult = GateHttpError | undefined;

export async function handleLlmCall(deps: LlmSurfaceDeps, target: LlmCallTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req, deps.limits, deps.bodyLimit);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new GateHttpError('bad_request', 'request body must be a JSON object');
  const request = body as Json;
  const model = target.deployment ?? request.model;
  if (typeof model !== 'string' || model === '') throw new GateHttpError('bad_request', 'request body needs a "model" string');
  const summary = summarizeRequest(target.endpoint, model, request);
  const route = deps.models.route(model);

  const base = await beginAttempt(req, deps.surface.auth);
  const context = { ...base.context, conversation: summary.conversation };
  const call = new LlmCall(deps, target, req, res, { request, model, summary, route, base, context });
  const attempt = attemptOf(base, 'openai', summary.action, { context, trace: summary.transcript });
  const span = { operation: target.endpoint === 'embeddings' ? ('embeddings' as const) : ('chat' as const), model, request, upstreams: route };
  const result = await deps.surface.gate.run(attempt, (judged) => inGenAiSpan(deps.surface.telemetry, span, () => call.execute(judged)));
  if (!result.ok) throw refusalError(result.refusal);
  if (result.value) throw result.value;
}

interface CallState {
  request: Json;
  model: string;
  summary: LlmRequestSummary;
  /** The model's upstreams in the order they are tried. */
  route: Upstream[];
  base: AttemptBase;
  context: AttemptBase['context'];
}

class LlmCall {
  private readonly abort = new AbortController();
  private readonly classifier: ItemClassifier;
  private clientGone = false;

  constructor(
    private readonly deps: LlmSurfaceDeps,
    private readonly target: LlmCallTarget,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly s: CallState,
  ) {
    this.classifier = new ItemClassifier(offeredTools(s.request), deps.toolCalls.unknownItems ?? 'withhold');
    res.on('close', () => {
      if (res.writableFinished) return;
      this.clientGone = true;
      this.abort.abort();
    });
  }

  /** The upstream that answered (set once the call is dispatched). */
  private upstream!: Upstream;

  async execute(_judged: ExecutionContext): Promise<Executed<CallResult>> {
    const streaming = this.s.request.stream === true && this.target.endpoint !== 'embeddings';
    const stripUsageChunk = streaming && this.asksForUsage();
    const sent = await sendJudged(this.s.route, (upstream) => this.upstreamRequest(upstream, streaming, stripUsageChunk), {
      deps: this.deps,
      model: this.s.model,
      abort: this.abort,
      res: this.res,
      clientGone: () => this.clientGone,
      errorBody: upstreamErrorBody,
    });
    if ('done' in sent) return sent.done;
    const { answer, facts } = sent;
    this.upstream = sent.upstream;
    const contentType = String(answer.headers['content-type'] ?? '');
    if (!streaming || !contentType.includes('text/event-stream')) return this.whole(answer, facts);
    return this.stream(answer, stripUsageChunk, facts);
  }

  /** Streamed chat completions settle from the usage chunk: the gatekeeper asks for it when the agent did not. */
  private asksForUsage(): boolean {
    const options = (this.s.request.stream_options ?? {}) as Json;
    return this.target.endpoint === 'chat/completions' && options.include_usage !== true;
  }

  /**
   * What goes upstream is re-serialized from the parse the policy's action was made from, never the agent's own
   * bytes: a body with duplicate keys must not be read one way by the policy and another way by the upstream.
   * Each upstream of the route gets the same judged body, addressed its own way.
   */
  private upstreamRequest(upstream: Upstream, streaming: boolean, stripUsageChunk: boolean) {
    let body = this.s.request;
    if (this.target.deployment !== undefined && upstream.flavor === 'openai') body = { ...body, model: this.target.deployment };
    if (streaming && stripUsageChunk) body = { ...body, stream_options: { ...((body.stream_options ?? {}) as Json), include_usage: true } };
    const { path, query } = upstream.pathFor(this.target.endpoint, this.s.model);
    return { method: 'POST' as const, path, query, headers: this.upstreamHeaders(), body: JSON.stringify(body) };
  }

  private upstreamHeaders(): Record<string, string> {
    const { trace } = this.s.base;
    return {
      'content-type': 'application/json',
      accept: this.req.headers.accept ?? 'application/json',
      'accept-encoding': 'identity',
      traceparent: trace.traceparent,
      ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    };
  }

  private async whole(answer: UpstreamResponse, facts: Json): Promise<Executed<CallResult>> {
    const text = await this.read(answer);
    let payload: Json;
    try {
      payload = JSON.parse(text) as Json;
    } catch {
      return { value: new GateHttpError('upstream_error', `upstream "${this.upstream.name}" answered with a body that is not JSON`), settlement: { release: 'upstream response is not JSON' }, facts };
    }
    const verdictOf = this.judge(() => ({ request: this.s.summary.transcript, response: payload }));
    let failure: GateHttpError | undefined;
    if (this.target.endpoint === 'chat/completions') failure = await gateChatCompletion(payload, verdictOf, this.classifier);
    else if (this.target.endpoint === 'responses') failure = await gateResponseObject(payload, verdictOf, this.classifier);
    const settlement = { settle: { usage: payload.usage, model: payload.model ?? this.s.model } };
    if (failure) return { value: failure, settlement, facts };
    // Re-serialized even when nothing was withheld: the agent gets exactly the document whose calls were decided.
    sendJson(this.res, answer.status, payload, passedResponseHeaders(answer.headers, true) as Record<string, string>);
    return { value: undefined, settlement, facts: { ...facts, ...responseFacts(payload) } };
  }

  private async stream(answer: UpstreamResponse, stripUsageChunk: boolean, facts: Json): Promise<Executed<CallResult>> {
    const { res, abort } = this;
    res.writeHead(200, { ...passedResponseHeaders(answer.headers, true), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    let usage: { usage: unknown; model: unknown } | undefined;
    const common = {
      write: (bytes: Uint8Array) => res.write(bytes),
      onUsage: (u: unknown, m: string | undefined) => (usage = { usage: u, model: m ?? this.s.model }),
      onTerminate: () => abort.abort(),
    };
    const trace = () => ({ request: this.s.summary.transcript, response: streamGate.assistantSoFar() });
    const streamGate: ChatStreamGate | ResponsesStreamGate =
      this.target.endpoint === 'chat/completions'
        ? new ChatStreamGate({ ...common, stripUsageChunk, judge: this.judge(trace), classifier: this.classifier })
        : new ResponsesStreamGate({ ...common, judge: this.judge(trace), classifier: this.classifier });
    // Once a stream has started, the upstream has charged for output: a release says how far it got.
    const cut = (reason: string): Settlement => ({ release: reason, progress: { streamed: true, outputChars: outputChars(streamGate.assistantSoFar()) } });
    const end = await pumpStream(answer, res, streamGate, this.upstream, OPENAI_STREAM, abort);
    if (end === 'upstream_failed') return { value: undefined, settlement: cut('upstream stream failed'), facts };
    if (end === 'gate_fault') return { value: undefined, settlement: cut('gatekeeper fault while gating the stream'), facts };
    if (usage) return { value: undefined, settlement: { settle: usage }, facts: { ...facts, usage: usage.usage, ...(typeof usage.model === 'string' ? { response_model: usage.model } : {}) } };
    const reason = this.clientGone ? 'client closed the connection' : abort.signal.aborted ? 'stream withheld' : 'stream ended without usage';
    return { value: undefined, settlement: cut(reason), facts };
  }

  private async read(answer: UpstreamResponse): Promise<string> {
    try {
      return await answer.text();
    } catch (err) {
      throw upstreamErrorOf(this.upstream.client, err).toHttp();
    }
  }

  private judge(trace: () => unknown): (call: ProposedToolCall) => Promise<ToolVerdict> {
    const scope = { gate: this.deps.surface.gate, surface: 'openai' as const, base: this.s.base, context: this.s.context, model: this.s.model, policy: this.deps.toolCalls, limits: this.deps.limits, trace };
    return (call) => judgeToolCall(scope, call);
  }
}

/** Errors in OpenAI streams: an `error` event, or an event carrying `error` (Responses API: also `response.failed`). */
const OPENAI_STREAM: StreamProtocol = {
  isError(event, parsed) {
    const ev = parsed as Json | null;
    const response = ev?.response as Json | undefined;
    return event.event === 'error' || ev?.error != null || ev?.type === 'response.failed' || response?.error != null;
  },
  errorEvent(error) {
    const data = sseErrorData(error);
    return { event: 'error', data, raw: encodeSse(data, 'error') };
  },
};

/** What the outcome record and the GenAI span keep of a response: usage, the model that answered, why it stopped. */
function responseFacts(payload: Json): Json {
  const choices = Array.isArray(payload.choices) ? (payload.choices as Json[]) : [];
  const reasons = choices.map((c) => c.finish_reason).filter((r): r is string => typeof r === 'string');
  const status = typeof payload.status === 'string' ? [payload.status] : [];
  return {
    usage: payload.usage,
    ...(typeof payload.model === 'string' ? { response_model: payload.model } : {}),
    ...(typeof payload.id === 'string' ? { response_id: payload.id } : {}),
    ...(reasons.length || status.length ? { finish_reasons: reasons.length ? reasons : status } : {}),
  };
}

/** Characters of text and reasoning streamed so far (the budgets' `charge_estimate` rule prices them). */
function outputChars(soFar: { content: string; reasoning?: string } | { content: string; reasoning?: string }[]): number {
  return [soFar].flat().reduce((n, c) => n + c.content.length + (c.reasoning?.length ?? 0), 0);
}
