/**
 * A tiny router over node:http. Every surface (decision API, API proxy, OpenAI-compatible, console, ...)
 * registers its routes on one Router at server build time:
 *
 *   export function registerRoutes(router: Router, deps: SurfaceDeps): void {
 *     router.add('POST', '/v1/chat/completions', async (req, res, ctx) => { ... });
 *     router.add('*', '/apis/:name/*', handler);            // ctx.params.name, ctx.params['*'] = rest of path
 *   }
 *
 * Handlers are thin: validate at the edge (`readJson(req, zodSchema)`), call the gate, write the response.
 * Anything a handler throws is mapped to a response in one place (`respondError`): a `GateHttpError` by its
 * kind, anything else as a 503 gatekeeper fault (fail closed — an unexpected error never lets a call through).
 *
 * Matching is exact-path first (one Map lookup), then patterns in registration order; no regexes on the hot path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { DEFAULT_JSON_LIMITS, parseStrictJson, StrictJsonError, type JsonLimits } from '../json/strict.js';
import { GateHttpError, errorBody } from './errors.js';

export interface RouteContext {
  /** Named segments (`:name`) and, for a trailing `*`, the rest of the path (without leading slash) as `'*'`. */
  params: Record<string, string>;
  /** Path without query string. */
  path: string;
  /** Raw query string without the leading `?` ('' when absent). */
  query: string;
  /** Monotonic start time (performance.now()) for latency metrics. */
  startedAt: number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => unknown | Promise<unknown>;

/** Turns an error into a response body; surfaces with their own error format (OpenAI) supply one. */
export type ErrorFormatter = (err: GateHttpError) => unknown;

export interface RouteOptions {
  errorFormat?: ErrorFormatter;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | '*';

interface Route {
  method: Method;
  segments: string[];
  wildcard: boolean;
  handler: Handler;
  options: RouteOptions;
}

export class Router {
  private readonly exact = new Map<string, Route[]>();
  private readonly patterns: Route[] = [];
  /** Error formats for requests no route matched, by path prefix (a protocol's SDKs expect its own 404s). */
  private readonly prefixFormats: { prefix: string; format: ErrorFormatter }[] = [];
  /** Called with every error a handler throws, after the response is written (metrics, logs). */
  onError: (err: unknown, req: IncomingMessage, ctx: RouteContext) => void = () => {};

  add(method: Method, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    if (!pattern.startsWith('/')) throw new Error(`route pattern must start with '/': ${pattern}`);
    const wildcard = pattern.endsWith('/*');
    const body = wildcard ? pattern.slice(0, -2) : pattern;
    const segments = body.split('/').slice(1);
    const route: Route = { method, segments, wildcard, handler, options };
    if (!wildcard && !segments.some((s) => s.startsWith(':'))) {
      const list = this.exact.get(body) ?? [];
      list.push(route);
      this.exact.set(body, list);
    } else {
      this.patterns.push(route);
    }
    return this;
  }

  /** Answers unmatched requests under `prefix` in this format; the longest matching prefix wins. */
  errorFormatUnder(prefix: string, format: ErrorFormatter): this {
    this.prefixFormats.push({ prefix, format });
    this.prefixFormats.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  /** The node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (!url.startsWith('/')) {
      // An absolute-form target (`GET http://other-host/...`) would name a host; the gatekeeper is not a forward proxy.
      return this.fail(res, { params: {}, path: url, query: '', startedAt: performance.now() }, req, new GateHttpError('bad_request', 'the request target must be a path (origin-form)'), {});
    }
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const ctx: RouteContext = { params: {}, path, query: q === -1 ? '' : url.slice(q + 1), startedAt: performance.now() };
    let found: Route | 'method' | undefined;
    try {
      found = this.match(req.method ?? 'GET', path, ctx);
    } catch (err) {
      return this.fail(res, ctx, req, err, {});
    }
    const unmatched = { errorFormat: this.prefixFormats.find((f) => path.startsWith(f.prefix))?.format };
    if (found === 'method') return this.fail(res, ctx, req, new GateHttpError('method_not_allowed', `${req.method} not allowed on ${path}`), unmatched);
    if (!found) return this.fail(res, ctx, req, new GateHttpError('not_found', `no route for ${req.method} ${path}`), unmatched);
    let result: unknown;
    try {
      result = found.handler(req, res, ctx);
    } catch (err) {
      return this.fail(res, ctx, req, err, found.options);
    }
    if (result instanceof Promise) result.catch((err) => this.fail(res, ctx, req, err, found.options));
  };

  private match(method: string, path: string, ctx: RouteContext): Route | 'method' | undefined {
    let wrongMethod = false;
    const exact = this.exact.get(path);
    if (exact) {
      for (const r of exact) if (r.method === '*' || r.method === method) return r;
      wrongMethod = true;
    }
    const parts = path.split('/').slice(1);
    for (const r of this.patterns) {
      const params = matchSegments(r, parts);
      if (!params) continue;
      if (r.method !== '*' && r.method !== method) {
        wrongMethod = true;
        continue;
      }
      ctx.params = params;
      return r;
    }
    return wrongMethod ? 'method' : undefined;
  }

  private fail(res: ServerResponse, ctx: RouteContext, req: IncomingMessage, err: unknown, options: RouteOptions): void {
    respondError(res, err, options.errorFormat);
    this.onError(err, req, ctx);
  }
}

function matchSegments(route: Route, parts: string[]): Record<string, string> | undefined {
  const { segments, wildcard } = route;
  if (wildcard ? parts.length < segments.length : parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const part = parts[i]!;
    if (seg.startsWith(':')) {
      if (part === '') return undefined;
      params[seg.slice(1)] = decodeParam(part);
    } else if (seg !== part) return undefined;
  }
  if (wildcard) params['*'] = parts.slice(segments.length).join('/');
  return params;
}

/** Decoded once, here; a malformed escape is a 400, never passed on raw. */
function decodeParam(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new GateHttpError('bad_request', `malformed percent-encoding in path segment "${s}"`);
  }
}

/** Maps any thrown value to a response: typed errors by kind, anything else as a 503 fault. */
export function respondError(res: ServerResponse, err: unknown, format: ErrorFormatter = errorBody): void {
  const typed = err instanceof GateHttpError ? err : new GateHttpError('gatekeeper_fault', 'internal gatekeeper error');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, typed.status, format(typed), typed.headers);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/** Reads the whole request body, refusing more than `limit` bytes with 413. */
export function readBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new GateHttpError('payload_too_large', `request body over ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new GateHttpError('payload_too_large', `request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Parses a body as strict JSON (json/strict.ts): a syntax error, a duplicate key or an unsafe integer is a 400
 * naming the problem, a document over the shape limits a 413 naming the limit.
 */
export function parseJson(body: Buffer, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  try {
    return parseStrictJson(body.toString('utf8'), limits, 'request body');
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    throw new GateHttpError(err.problem.kind === 'limit' ? 'payload_too_large' : 'bad_request', err.message);
  }
}

/** Reads a whole body and parses it as strict JSON. */
export async function readJsonBody(req: IncomingMessage, limits?: JsonLimits, bodyLimit?: number): Promise<unknown> {
  return parseJson(await readBody(req, bodyLimit), limits);
}

/** Reads, parses and validates a JSON body; validation errors are a 400 listing each path and problem. */
export async function readJson<S extends z.ZodType>(req: IncomingMessage, schema: S, limits?: JsonLimits, bodyLimit?: number): Promise<z.output<S>> {
  return validate(schema, await readJsonBody(req, limits, bodyLimit));
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new GateHttpError('bad_request', `invalid ${what}: ${problems.join('; ')}`, { problems });
}
