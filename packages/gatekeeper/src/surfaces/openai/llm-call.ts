/**
 * One OpenAI-compatible call through the gatekeeper: read the request into the `llm.request` action, run it
 * through the gate's lifecycle, and — as its execution — call the routed upstream and gate every tool call in
 * the response before the agent sees it. The lifecycle settles the budget escrow from what the execution reports
 * (the response's usage, or a release with how far a stream got).
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Executed, ExecutionContext, Settlement } from '../../gate/index.js';
import { attemptOf, beginAttempt, type AttemptBase } from '../../http/attempt.js';
import { GateHttpError, refusalError } from '../../http/errors.js';
import { readJsonBody, sendJson } from '../../http/router.js';
import type { JsonLimits } from '../../json/strict.js';
import type { SurfaceDeps } from '../../surface.js';
import { inGenAiSpan } from './genai-span.js';
import { passedResponseHeaders, scrubbedError, upstreamErrorOf, type UpstreamResponse } from '../../upstream/index.js';
import { ChatStreamGate } from './chat-stream.js';
import { gateChatCompletion } from './chat-json.js';
import { asGateHttpError, sseErrorData, sseErrorEvent, upstreamErrorBody } from './errors.js';
import { summarizeRequest, type LlmRequestSummary } from './request-action.js';
import { ItemClassifier, offeredTools } from './output-items.js';
import { gateResponseObject } from './responses-json.js';
import { ResponsesStreamGate } from './responses-stream.js';
import { encodeSse, SseParser, type SseEvent } from './sse.js';
import { judgeToolCall, type ProposedToolCall, type ToolCallPolicy, type ToolVerdict } from './tool-judge.js';
import type { Endpoint, ModelRouter, Upstream } from './upstreams.js';

type Json = Record<string, unknown>;

export interface LlmCallDeps {
  surface: Pick<SurfaceDeps, 'gate' | 'auth' | 'telemetry'>;
  models: ModelRouter;
  toolCalls: ToolCallPolicy;
  limits: JsonLimits;
  /** Request bodies above this many bytes are refused (413). */
  bodyLimit?: number;
}

export interface LlmCallTarget {
  endpoint: Endpoint;
  /** Azure URL scheme: the deployment named in the path is the model. */
  deployment?: string;
}

/** What the handler still has to do once the lifecycle is over: nothing, or answer with this error. */
type CallResult = GateHttpError | undefined;

export async function handleLlmCall(deps: LlmCallDeps, target: LlmCallTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req, deps.limits, deps.bodyLimit);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new GateHttpError('bad_request', 'request body must be a JSON object');
  const request = body as Json;
  const model = target.deployment ?? request.model;
  if (typeof model !== 'string' || model === '') throw new GateHttpError('bad_request', 'request body needs a "model" string');
  const summary = summarizeRequest(target.endpoint, model, request);
  const upstream = deps.models.route(model);

  const base = await beginAttempt(req, deps.surface.auth);
  const context = { ...base.context, conversation: summary.conversation };
  const call = new LlmCall(deps, target, req, res, { request, model, summary, upstream, base, context });
  const attempt = attemptOf(base, 'openai', summary.action, { context, trace: summary.transcript });
  const result = await deps.surface.gate.run(attempt, (judged) =>
    inGenAiSpan(deps.surface.telemetry, target.endpoint, model, request, upstream, () => call.execute(judged)),
  );
  if (!result.ok) throw refusalError(result.refusal);
  if (result.value) throw result.value;
}

interface CallState {
  request: Json;
  model: string;
  summary: LlmRequestSummary;
  upstream: Upstream;
  base: AttemptBase;
  context: AttemptBase['context'];
}

class LlmCall {
  private readonly abort = new AbortController();
  private readonly classifier: ItemClassifier;
  private clientGone = false;

  constructor(
    private readonly deps: LlmCallDeps,
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

  async execute(_judged: ExecutionContext): Promise<Executed<CallResult>> {
    const { upstream } = this.s;
    const streaming = this.s.request.stream === true && this.target.endpoint !== 'embeddings';
    const { body, stripUsageChunk } = this.upstreamBody(streaming);
    const { path, query } = upstream.pathFor(this.target.endpoint, this.s.model);
    let answer: UpstreamResponse;
    try {
      answer = await upstream.client.send({ method: 'POST', path, query, headers: this.upstreamHeaders(), body: JSON.stringify(body), signal: this.abort.signal });
    } catch (err) {
      if (this.clientGone) return { value: undefined, settlement: { release: 'client closed the connection' } };
      throw upstreamErrorOf(upstream.client, err).toHttp();
    }
    const facts = { status: answer.status };
    if (answer.status >= 400) {
      // The upstream's error, scrubbed of the gatekeeper's credentials, as an OpenAI error with its status; nothing was spent.
      const scrubbed = await scrubbedError(upstream.client, answer);
      const text = JSON.stringify(upstreamErrorBody(scrubbed, upstream.name));
      this.res.writeHead(answer.status, { ...scrubbed.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      this.res.end(text);
      return { value: undefined, settlement: { release: `upstream answered ${answer.status}` }, facts };
    }
    const contentType = String(answer.headers['content-type'] ?? '');
    if (!streaming || !contentType.includes('text/event-stream')) return this.whole(answer, facts);
    return this.stream(answer, stripUsageChunk, facts);
  }

  /**
   * What goes upstream is re-serialized from the parse the policy's action was made from, never the agent's own
   * bytes: a body with duplicate keys must not be read one way by the policy and another way by the upstream.
   */
  private upstreamBody(streaming: boolean): { body: Json; stripUsageChunk: boolean } {
    let body = this.s.request;
    if (this.target.deployment !== undefined && this.s.upstream.flavor === 'openai') body = { ...body, model: this.target.deployment };
    if (streaming && this.target.endpoint === 'chat/completions') {
      const options = (body.stream_options ?? {}) as Json;
      if (options.include_usage !== true) {
        // Ask for the usage chunk (budgets settle from it) and keep it from an agent that did not ask.
        return { body: { ...body, stream_options: { ...options, include_usage: true } }, stripUsageChunk: true };
      }
    }
    return { body, stripUsageChunk: false };
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
      return { value: new GateHttpError('upstream_error', `upstream "${this.s.upstream.name}" answered with a body that is not JSON`), settlement: { release: 'upstream response is not JSON' }, facts };
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
    const parser = new SseParser();
    try {
      for await (const chunk of answer.body) {
        res.cork();
        for (const event of parser.push(chunk as Buffer)) streamGate.push(this.scrubbedEvent(event));
        res.uncork();
        // A slow agent slows the upstream read instead of growing the gatekeeper's buffers.
        if (res.writableNeedDrain) await once(res, 'drain', { signal: abort.signal });
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        const settlement = cut('upstream stream failed');
        await streamGate.finish().catch(() => {});
        res.end(sseErrorEvent(upstreamErrorOf(this.s.upstream.client, err).toHttp()));
        return { value: undefined, settlement, facts };
      }
    }
    try {
      await streamGate.finish();
    } catch (err) {
      if (!res.writableEnded) res.end(sseErrorEvent(asGateHttpError(err)));
      return { value: undefined, settlement: cut('gatekeeper fault while gating the stream'), facts };
    }
    if (!res.writableEnded) res.end();
    if (usage) return { value: undefined, settlement: { settle: usage }, facts: { ...facts, usage: usage.usage, ...(typeof usage.model === 'string' ? { response_model: usage.model } : {}) } };
    const reason = this.clientGone ? 'client closed the connection' : abort.signal.aborted ? 'stream withheld' : 'stream ended without usage';
    return { value: undefined, settlement: cut(reason), facts };
  }

  /** An error inside a stream is scrubbed like an error response: errors are where upstreams echo requests. */
  private scrubbedEvent(event: SseEvent): SseEvent {
    if (event.event !== 'error' && !event.data.includes('"error"')) return event;
    let ev: Json;
    try {
      ev = JSON.parse(event.data) as Json;
    } catch {
      return event.event === 'error' ? this.withheldError(event) : event;
    }
    const response = ev?.response as Json | undefined;
    if (event.event !== 'error' && ev?.error == null && ev?.type !== 'response.failed' && response?.error == null) return event;
    const { scrubber } = this.s.upstream.client;
    const data = JSON.stringify(scrubber.value(ev));
    if (scrubber.leaks(data)) return this.withheldError(event);
    return data === JSON.stringify(ev) ? event : { ...event, data, raw: encodeSse(data, event.event) };
  }

  private withheldError(event: SseEvent): SseEvent {
    const error = new GateHttpError('upstream_error', `upstream "${this.s.upstream.name}" sent an error in the stream; its message is withheld (it may hold the gatekeeper's credentials)`);
    const data = sseErrorData(error);
    return { ...event, event: 'error', data, raw: encodeSse(data, 'error') };
  }

  private async read(answer: UpstreamResponse): Promise<string> {
    try {
      return await answer.text();
    } catch (err) {
      throw upstreamErrorOf(this.s.upstream.client, err).toHttp();
    }
  }

  private judge(trace: () => unknown): (call: ProposedToolCall) => Promise<ToolVerdict> {
    const scope = { gate: this.deps.surface.gate, base: this.s.base, context: this.s.context, model: this.s.model, policy: this.deps.toolCalls, limits: this.deps.limits, trace };
    return (call) => judgeToolCall(scope, call);
  }
}

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
