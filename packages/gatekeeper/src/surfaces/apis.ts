/**
 * API proxy: `/apis/<name>/<path>` (any method) → the named business API from gatekeeper.yaml.
 * The action (`http.request`: method, path, query, JSON body, amount) is decided and recorded first; only an
 * allowed request is forwarded, with the API's credentials added by the gatekeeper (the agent's own credential
 * headers are never forwarded) and the trace continued via `traceparent`. A `redact` obligation removes the named
 * fields from the upstream's JSON response before the agent sees it.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { findAmount } from '../amounts.js';
import type { ApiConfig } from '../config/schema.js';
import type { GateOutcome } from '../gate.js';
import { attemptOf, beginAttempt, finalDecision, refusalOf } from '../http/attempt.js';
import { GateHttpError } from '../http/errors.js';
import { parseJson, readBody, type Router } from '../http/router.js';
import type { TraceContext } from '../http/trace.js';
import type { OagfAction, Obligation } from '../spec/index.js';
import type { SurfaceDeps } from '../surface.js';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
  'content-length',
]);
/** Agent-side headers that must not reach the business API. */
const AGENT_ONLY = new Set(['authorization', 'x-api-key', 'api-key', 'cookie', 'traceparent', 'tracestate']);

export interface ResolvedApi {
  name: string;
  base: URL;
  /** Credential headers resolved from the environment at start. */
  headers: Record<string, string>;
  timeoutMs: number;
}

/** Resolves credentials from the environment; a missing variable is a start-up error naming the config path. */
export function resolveApis(apis: Record<string, ApiConfig>, env: NodeJS.ProcessEnv = process.env): Map<string, ResolvedApi> {
  const out = new Map<string, ResolvedApi>();
  for (const [name, api] of Object.entries(apis)) {
    const headers: Record<string, string> = {};
    for (const [header, secret] of Object.entries(api.headers)) {
      const value = env[secret.env];
      if (value === undefined) throw new Error(`apis.${name}.headers.${header}: environment variable ${secret.env} is not set`);
      headers[header.toLowerCase()] = secret.prefix + value;
    }
    out.set(name, { name, base: new URL(api.base_url.endsWith('/') ? api.base_url : `${api.base_url}/`), headers, timeoutMs: api.timeout_ms });
  }
  return out;
}

export function registerApiRoutes(router: Router, deps: SurfaceDeps, apis: Map<string, ResolvedApi>, dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 30_000 })): void {
  router.add('*', '/apis/:name/*', async (req, res, ctx) => {
    const api = apis.get(ctx.params.name!);
    if (!api) throw new GateHttpError('not_found', `no API named ${ctx.params.name} is configured`);
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
    const body = raw.length && isJson(req.headers) ? parseJson(raw) : undefined;
    const path = `/${ctx.params['*']}`;
    const action: OagfAction = {
      kind: 'http.request',
      target: { api: api.name, method, path },
      ...(body !== undefined ? { body } : {}),
      ...(ctx.query ? { query: queryOf(ctx.query) } : {}),
    };
    const amount = findAmount(action, deps.config.amounts);
    if (amount) action.amount = amount;

    const base = await beginAttempt(req, deps.auth);
    const outcome = await deps.gate.decide(attemptOf(base, 'api', action));
    const decision = await finalDecision(outcome);
    const refusal = refusalOf(outcome, decision);
    if (refusal) {
      await outcome.reservation?.release(`not carried out: ${decision.outcome}`);
      throw refusal;
    }
    await forward(req, res, { api, path, query: ctx.query, raw, outcome, trace: base.trace, dispatcher, deps, redact: redactions(decision.obligations) });
  });
}

interface ForwardArgs {
  api: ResolvedApi;
  path: string;
  query: string;
  raw: Buffer;
  outcome: GateOutcome;
  trace: TraceContext;
  dispatcher: Dispatcher;
  deps: SurfaceDeps;
  redact: string[];
}

async function forward(req: IncomingMessage, res: ServerResponse, a: ForwardArgs): Promise<void> {
  const url = new URL(a.path.slice(1) + (a.query ? `?${a.query}` : ''), a.api.base);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || AGENT_ONLY.has(k) || k.startsWith('oagf-')) continue;
    headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  Object.assign(headers, a.api.headers, { traceparent: a.trace.traceparent, 'oagf-decision-id': a.outcome.recordId });
  if (a.trace.tracestate) headers.tracestate = a.trace.tracestate;

  const started = performance.now();
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await request(url, {
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: a.raw.length ? a.raw : null,
      dispatcher: a.dispatcher,
      headersTimeout: a.api.timeoutMs,
      bodyTimeout: a.api.timeoutMs,
    });
  } catch (err) {
    a.deps.metrics.upstreamSeconds.observe({ upstream: a.api.name, status: 'error' }, (performance.now() - started) / 1000);
    await a.outcome.reservation?.release('upstream unreachable');
    const timeout = (err as { code?: string }).code?.includes('TIMEOUT');
    throw new GateHttpError(timeout ? 'upstream_timeout' : 'upstream_error', `API ${a.api.name} failed: ${(err as Error).message}`, {
      record_id: a.outcome.recordId,
    });
  }
  a.deps.metrics.upstreamSeconds.observe({ upstream: a.api.name, status: String(upstream.statusCode) }, (performance.now() - started) / 1000);

  const outHeaders: Record<string, string | string[]> = { 'oagf-decision-id': a.outcome.recordId };
  for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
  const ok = upstream.statusCode < 400;
  try {
    if (a.redact.length) {
      // An obligation the gatekeeper cannot fulfil blocks the response (fail closed).
      const out = redactJson(await upstream.body.text(), a.redact);
      if (out === undefined) {
        throw new GateHttpError('gatekeeper_fault', `cannot apply the policy's redact obligation: API ${a.api.name} did not return JSON`, {
          record_id: a.outcome.recordId,
        });
      }
      res.writeHead(upstream.statusCode, { ...outHeaders, 'content-length': Buffer.byteLength(out) });
      res.end(out);
    } else {
      res.writeHead(upstream.statusCode, outHeaders);
      await pipeline(upstream.body, res);
    }
  } finally {
    // The upstream has acted once it answered 2xx/3xx, whether or not the agent read the whole response.
    if (ok) await a.outcome.reservation?.settle({});
    else await a.outcome.reservation?.release(`upstream status ${upstream.statusCode}`);
  }
}

function isJson(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'] ?? '';
  return type.includes('application/json') || type.includes('+json');
}

function queryOf(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function redactions(obligations: Obligation[]): string[] {
  return obligations.filter((o) => o.type === 'redact').flatMap((o) => (o.fields ?? []).map((f) => f.replace(/^response\./, '')));
}

function redactJson(text: string, fields: string[]): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const field of fields) {
    const keys = field.split('.');
    let node = doc as Record<string, unknown> | undefined;
    for (const k of keys.slice(0, -1)) node = node && typeof node === 'object' ? (node[k] as Record<string, unknown>) : undefined;
    if (node && typeof node === 'object') delete node[keys[keys.length - 1]!];
  }
  return JSON.stringify(doc);
}
