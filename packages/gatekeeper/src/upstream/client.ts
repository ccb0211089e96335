/**
 * The one way the gatekeeper calls the outside world (LLM upstreams, business APIs, MCP servers over HTTP).
 * One keep-alive undici pool per upstream origin; the request path is the configured base path joined with the
 * judged path, never resolved against it, so nothing the agent sends can change the origin. Credentials come
 * from the configuration (environment) and are added here. Timeouts and failures map to one set of error kinds.
 */
import { Pool, type Dispatcher } from 'undici';
import type { Metrics } from '../metrics.js';
import type { Redactor } from '../redact.js';
import { NO_TELEMETRY, type Telemetry } from '../telemetry/index.js';
import { UpstreamError, upstreamErrorOf } from './errors.js';
import { Scrubber } from './scrub.js';

export interface UpstreamTarget {
  /** Name in the configuration, used in errors and metrics. */
  name: string;
  /** e.g. https://erp.example.com/v2 — origin plus base path. */
  baseUrl: string;
  timeoutMs: number;
  /** Headers the gatekeeper adds (credentials): the agent never holds them. */
  credentials?: Record<string, string>;
  /** Largest response body read into memory (JSON to inspect). */
  maxResponseBytes?: number;
  /** The operator's secret patterns, scrubbed from error responses with the credentials (error-body.ts). */

  connections?: number;
}

/** What every upstream call shares: metrics, the gatekeeper's redactor (scrubbing error bodies), traces. */
export interface UpstreamServices {
  metrics?: Metrics;
  /** Secret formats and configured patterns, scrubbed from error bodies along with the credentials. */
  redactor?: Redactor;
  telemetry?: Telemetry;
}

export interface UpstreamRequest {
  method: Dispatcher.HttpMethod;
  /** Canonical path below the base path, with a leading slash, already validated by the surface. */
  path: string;
  /** Raw query string without `?`, or ''. */
  query?: string;
  /** Headers besides the credentials (already filtered by the surface's allowlist). */
  headers: Record<string, string>;
  body?: Uint8Array | string | null;
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The whole body as text, refused (UpstreamError `too_large`) past `limit`, by default `maxResponseBytes`. */
  text(limit?: number): Promise<string>;
}

const DEFAULT_MAX_RESPONSE = 32 * 1024 * 1024;

export class UpstreamClient {
  readonly name: string;
  readonly timeoutMs: number;
  readonly origin: string;
  readonly basePath: string;
  /** Scrubs this upstream's credentials (and secret patterns) from what it says back. */
  readonly scrubber: Scrubber;
  private readonly pool: Pool;
  private readonly credentials: Record<string, string>;
  /** What a response may carry at most (bytes): text() refuses more, and so do readers of `body` in this package. */
  readonly maxResponseBytes: number;

  private readonly metrics: Metrics | undefined;
  private readonly telemetry: Telemetry;

  constructor(target: UpstreamTarget, services: UpstreamServices = {}) {
    this.metrics = services.metrics;
    this.telemetry = services.telemetry ?? NO_TELEMETRY;
    const url = new URL(target.baseUrl);
    if (url.search || url.hash) throw new Error(`upstream ${target.name}: base URL ${target.baseUrl} must not carry a query or fragment`);
    this.name = target.name;
    this.timeoutMs = target.timeoutMs;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.credentials = Object.fromEntries(Object.entries(target.credentials ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.maxResponseBytes = target.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
    this.scrubber = new Scrubber(Object.values(this.credentials), services.redactor);
    this.pool = new Pool(url.origin, {
      connections: target.connections ?? 256,
      keepAliveTimeout: 30_000,
      headersTimeout: target.timeoutMs,
      bodyTimeout: target.timeoutMs,
    });
  }

  /** The path the upstream receives: base path + judged path (+ query). */
  pathFor(path: string, query = ''): string {
    if (!path.startsWith('/')) throw new Error(`upstream path must start with '/': ${path}`);
    return `${this.basePath}${path}${query ? `?${query}` : ''}`;
  }

  /** The call, in a CLIENT span (until the response headers) whose context the upstream continues. */
  send(r: UpstreamRequest): Promise<UpstreamResponse> {
    if (!this.telemetry.enabled) return this.sendTraced(r);
    const path = this.pathFor(r.path);
    const attributes = { 'http.request.method': r.method, 'server.address': new URL(this.origin).hostname, 'url.path': path, 'oagf.upstream': this.name };
    return this.telemetry.inSpan(`${r.method} ${this.name}`, 'client', attributes, async (span) => {
      const traceparent = this.telemetry.traceparent();
      const res = await this.sendTraced(traceparent ? { ...r, headers: { ...r.headers, traceparent } } : r);
      span.set({ 'http.response.status_code': res.status });
      return res;
    });
  }

  private async sendTraced(r: UpstreamRequest): Promise<UpstreamResponse> {
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method: r.method,
        path: this.pathFor(r.path, r.query),
        headers: { ...r.headers, ...this.credentials },
        body: r.body ?? null,
        ...(r.signal ? { signal: r.signal } : {}),
      });
    } catch (err) {
      this.observe(started, 'error');
      throw upstreamErrorOf(this, err);
    }
    this.observe(started, String(res.statusCode));
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body,
      text: (limit = this.maxResponseBytes) => this.readAll(res.body, limit),
    };
  }

  /**
   * The whole body as text, refused past `limit` bytes. Listeners, not `for await`: the stream's async iterator
   * cost a promise and an end-of-stream watcher per body (~1% of a gated chat completion's CPU).
   */
  private readAll(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      body.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) return void chunks.push(chunk);
        body.removeAllListeners('data');
        body.destroy();
        reject(new UpstreamError('too_large', `upstream "${this.name}" answered with more than ${limit} bytes`));
      });
      body.once('error', (err) => reject(upstreamErrorOf(this, err)));
      let ended = false;
      body.once('end', () => {
        ended = true;
        resolve(Buffer.concat(chunks, size).toString('utf8'));
      });
      // Closed without an end or an error (destroyed elsewhere): as `for await` would, a premature close. (After an
      // end every body closes too: no error is built for that.)
      body.once('close', () => {
        if (!ended) reject(upstreamErrorOf(this, Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
      });
    });
  }

  close(): Promise<void> {
    // Shutdown: the server has stopped taking calls; calls still streaming are cut rather than awaited.
    return this.pool.destroy();
  }

  private observe(started: number, status: string): void {
    this.metrics?.upstreamSeconds.observe({ upstream: this.name, status }, (performance.now() - started) / 1000);
  }
}
