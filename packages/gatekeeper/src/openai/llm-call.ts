/**
 * One OpenAI-compatible call through the gatekeeper: authenticate the agent, decide the `llm.request`
 * (ledger first), forward to the routed upstream with the gatekeeper's credential, and gate every tool
 * call in the response before the agent sees it. Budget escrow is settled from the reported usage, or
 * released when the upstream fails, times out or the agent goes away.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { errors as undiciErrors } from 'undici';
import { attemptOf, beginAttempt, finalDecision, refusalOf } from '../http/attempt.js';
import { GateHttpError } from '../http/errors.js';
import type { TraceContext } from '../http/trace.js';
import { parseJson, readBody, sendJson } from '../http/router.js';
import type { SurfaceDeps } from '../surface.js';
import { ChatStreamGate } from './chat-stream.js';
import { gateChatCompletion } from './chat-json.js';
import type { Reservation } from '../gate.js';
import { asGateHttpError, sseErrorEvent } from './errors.js';
import { summarizeRequest } from './request-action.js';
import { gateResponseObject } from './responses-json.js';
import { ResponsesStreamGate } from './responses-stream.js';
import { SseParser } from './sse.js';
import { judgeToolCall, type ProposedToolCall, type ToolCallPolicy, type ToolVerdict } from './tool-judge.js';
import type { Endpoint, ModelRouter, Upstream } from './upstreams.js';

type Json = Record<string, unknown>;

export interface LlmCallDeps {
  surface: Pick<SurfaceDeps, 'gate' | 'auth' | 'metrics' | 'config'>;
  models: ModelRouter;
  toolCalls: ToolCallPolicy;
  /** Request bodies above this many bytes are refused (413). */
  bodyLimit?: number;
}

export interface LlmCallTarget {
  endpoint: Endpoint;
  /** Azure URL scheme: the deployment named in the path is the model. */
  deployment?: string;
}

/** Response headers of the upstream that are not passed to the agent (hop-by-hop, or invalid once the body changes). */
const DROPPED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'date', 'server', 'set-cookie']);

export async function handleLlmCall(deps: LlmCallDeps, target: LlmCallTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { gate, auth, metrics, config } = deps.surface;
  const body = parseJson(await readBody(req, deps.bodyLimit));
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new GateHttpError('bad_request', 'request body must be a JSON object');
  const request = body as Json;
  const model = target.deployment ?? request.model;
  if (typeof model !== 'string' || model === '') throw new GateHttpError('bad_request', 'request body needs a "model" string');
  const summary = summarizeRequest(target.endpoint, model, request);
  const upstream = deps.models.route(model);

  const base = await beginAttempt(req, auth);
  const context = { ...base.context, conversation: summary.conversation };
  const outcome = await gate.decide({ ...attemptOf(base, 'openai', summary.action), context, trace: summary.transcript });
  const decision = await finalDecision(outcome);
  const refusal = refusalOf(outcome, decision);
  if (refusal) {
    await outcome.reservation?.release(`not carried out: ${decision.outcome}`);
    throw refusal;
  }
  const escrow = escrowOf(outcome.reservation);

  const streaming = request.stream === true && target.endpoint !== 'embeddings';
  // What goes upstream is re-serialized from what policy saw, never the agent's own bytes: a body with
  // duplicate keys must not be read one way by the policy and another way by the upstream.
  let upstreamBody: Json = request;
  if (target.deployment !== undefined && upstream.flavor === 'openai') upstreamBody = { ...request, model: target.deployment };
  let stripUsageChunk = false;
  if (streaming && target.endpoint === 'chat/completions') {
    const options = (request.stream_options ?? {}) as Json;
    if (options.include_usage !== true) {
      // Ask for the usage chunk (budgets settle from it) and keep it from an agent that did not ask.
      upstreamBody = { ...upstreamBody, stream_options: { ...options, include_usage: true } };
      stripUsageChunk = true;
    }
  }

  const abort = new AbortController();
  // Once a stream has started, the upstream has charged for output: releases report how far it got.
  let progress: () => StreamProgress | undefined = () => undefined;
  res.on('close', () => {
    if (!res.writableFinished) {
      abort.abort();
      void escrow.release('client closed the connection', progress());
    }
  });

  const started = performance.now();
  let upstreamRes;
  try {
    upstreamRes = await upstream.pool.request({
      method: 'POST',
      path: upstream.pathFor(target.endpoint, model),
      headers: upstreamHeaders(upstream, req, base.trace),
      body: JSON.stringify(upstreamBody),
      signal: abort.signal,
    });
  } catch (err) {
    metrics.upstreamSeconds.observe({ upstream: upstream.name, status: 'error' }, (performance.now() - started) / 1000);
    await escrow.release(abort.signal.aborted ? 'client closed the connection' : 'upstream request failed');
    throw upstreamError(upstream, err);
  }
  metrics.upstreamSeconds.observe({ upstream: upstream.name, status: String(upstreamRes.statusCode) }, (performance.now() - started) / 1000);

  const contentType = String(upstreamRes.headers['content-type'] ?? '');
  const headers = passHeaders(upstreamRes.headers);
  if (upstreamRes.statusCode >= 400) {
    // The upstream's own error (OpenAI-shaped) reaches the agent unchanged; nothing was spent.
    const text = await readUpstream(upstreamRes.body, upstream, escrow);
    await escrow.release(`upstream answered ${upstreamRes.statusCode}`);
    res.writeHead(upstreamRes.statusCode, { ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }

  const judge = (trace: () => unknown) => {
    const scope = { gate, agent: base.agent, context, model, policy: deps.toolCalls, amounts: config.amounts, trace };
    return (call: ProposedToolCall): Promise<ToolVerdict> => judgeToolCall(scope, call);
  };

  if (!streaming || !contentType.includes('text/event-stream')) {
    const text = await readUpstream(upstreamRes.body, upstream, escrow);
    let payload: Json;
    try {
      payload = JSON.parse(text) as Json;
    } catch {
      await escrow.release('upstream response is not JSON');
      throw new GateHttpError('upstream_error', `upstream "${upstream.name}" answered with a body that is not JSON`);
    }
    const verdictOf = judge(() => ({ request: summary.transcript, response: payload }));
    let failure: GateHttpError | undefined;
    if (target.endpoint === 'chat/completions') failure = await gateChatCompletion(payload, verdictOf);
    else if (target.endpoint === 'responses') failure = await gateResponseObject(payload, verdictOf);
    await escrow.settle({ usage: payload.usage, model: payload.model ?? model });
    if (failure) throw failure;
    // Re-serialized even when nothing was withheld: the agent gets exactly the document whose calls were decided.
    sendJson(res, upstreamRes.statusCode, payload, headers);
    return;
  }

  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let usage: { usage: unknown; model: unknown } | undefined;
  const common = {
    write: (bytes: Uint8Array) => res.write(bytes),
    onUsage: (u: unknown, m: string | undefined) => (usage = { usage: u, model: m ?? model }),
    onTerminate: () => abort.abort(),
  };
  const trace = () => ({ request: summary.transcript, response: streamGate.assistantSoFar() });
  const streamGate: ChatStreamGate | ResponsesStreamGate =
    target.endpoint === 'chat/completions'
      ? new ChatStreamGate({ ...common, stripUsageChunk, judge: judge(trace) })
      : new ResponsesStreamGate({ ...common, judge: judge(trace) });
  progress = () => ({ streamed: true, outputChars: outputChars(streamGate.assistantSoFar()) });
  const parser = new SseParser();
  try {
    for await (const chunk of upstreamRes.body) {
      res.cork();
      for (const event of parser.push(chunk as Buffer)) streamGate.push(event);
      res.uncork();
      // A slow agent slows the upstream read instead of growing the gatekeeper's buffers.
      if (res.writableNeedDrain) await once(res, 'drain', { signal: abort.signal });
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      await escrow.release('upstream stream failed', progress());
      await streamGate.finish().catch(() => {});
      res.end(sseErrorEvent(upstreamError(upstream, err)));
      return;
    }
  }
  try {
    await streamGate.finish();
  } catch (err) {
    if (!res.writableEnded) res.end(sseErrorEvent(asGateHttpError(err)));
    await escrow.release('gatekeeper fault while gating the stream', progress());
    return;
  }
  if (usage) await escrow.settle(usage);
  else await escrow.release(abort.signal.aborted ? 'stream withheld or abandoned' : 'stream ended without usage', progress());
  if (!res.writableEnded) res.end();
}

function upstreamHeaders(upstream: Upstream, req: IncomingMessage, trace: TraceContext): Record<string, string> {
  const accept = req.headers.accept;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: accept ?? 'application/json',
    'accept-encoding': 'identity',
    traceparent: trace.traceparent,
    ...upstream.authHeaders,
  };
  if (trace.tracestate) headers.tracestate = trace.tracestate;
  return headers;
}

function passHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !DROPPED_HEADERS.has(name)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function readUpstream(body: AsyncIterable<unknown> & { text(): Promise<string> }, upstream: Upstream, escrow: Escrow): Promise<string> {
  try {
    return await body.text();
  } catch (err) {
    await escrow.release('upstream response failed');
    throw upstreamError(upstream, err);
  }
}

function upstreamError(upstream: Upstream, err: unknown): GateHttpError {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new GateHttpError('upstream_timeout', `upstream "${upstream.name}" did not answer within ${upstream.timeoutMs} ms`);
  }
  return new GateHttpError('upstream_error', `upstream "${upstream.name}" failed: ${(err as Error).message ?? err}`);
}

type StreamProgress = Parameters<Reservation['release']>[1];

interface Escrow {
  settle(actual: unknown): Promise<void>;
  release(reason: string, progress?: StreamProgress): Promise<void>;
}

/** Characters of text and reasoning streamed so far (the budgets' `charge_estimate` rule prices them). */
function outputChars(soFar: { content: string; reasoning?: string } | { content: string; reasoning?: string }[]): number {
  return [soFar].flat().reduce((n, c) => n + c.content.length + (c.reasoning?.length ?? 0), 0);
}

/** The reservation, settled or released at most once whichever path ends the call. */
function escrowOf(reservation: Reservation | undefined): Escrow {
  let done = !reservation;
  return {
    async settle(actual) {
      if (done) return;
      done = true;
      await reservation!.settle(actual);
    },
    async release(reason, progress) {
      if (done) return;
      done = true;
      await reservation!.release(reason, progress);
    },
  };
}
