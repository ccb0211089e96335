/**
 * A bundle poller for an OPA-compatible bundle server, as OPA's bundle plugin downloads: HTTP GET with
 * `If-None-Match` (the last activated bundle's ETag), long polling (`Prefer: wait=<seconds>`; a server answering
 * with `Content-Type: application/vnd.openpolicyagent.bundles` holds the request until the bundle changes or the
 * wait ends, and is asked again at once) or periodic polling with a random delay between min and max.
 *
 * A downloaded bundle is activated only when it is whole: it reads, its signature verifies (when verification is
 * configured, a signed bundle is required) and the host's `activate` accepts it (e.g. it compiles). Anything
 * less keeps the previous bundle active and is reported in the status, which a host shows in readiness and
 * metrics.
 */
import { readBundle, type Bundle, type VerificationOptions } from './bundle.js';

export const LONG_POLLING_CONTENT_TYPE = 'application/vnd.openpolicyagent.bundles';

export interface BundleStatus {
  name: string;
  /** revision of the active bundle (undefined before the first activation) */
  activeRevision?: string;
  /** ISO times, as in OPA's status API */
  lastRequest?: string;
  lastSuccessfulRequest?: string;
  lastSuccessfulDownload?: string;
  lastSuccessfulActivation?: string;
  /** HTTP status of the last response */
  httpCode?: number;
  /** set while the last attempt failed: `bundle_error` and what went wrong */
  code?: 'bundle_error';
  message?: string;
  errors?: string[];
  /** counters since start */
  metrics: { downloads: number; notModified: number; activations: number; failures: number };
}

export interface BundlePollerOptions {
  /** the bundle's URL on the server (e.g. `https://bundles.example.com/bundles/authz.tar.gz`) */
  url: string;
  /** the bundle's name in status (default: the URL) */
  name?: string;
  /** called with each new, fully read and verified bundle (and the bytes it was read from); throw (or reject) to refuse it */
  activate: (bundle: Bundle, archive: Buffer) => void | Promise<void>;
  /** required for signed bundles; when set, unsigned bundles are refused only if `keyId` is set (as in OPA) */
  verification?: VerificationOptions;
  /** OPA's polling.min_delay_seconds / max_delay_seconds, in ms (default 60 s / 120 s) */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** OPA's polling.long_polling_timeout_seconds: ask the server to hold each request this long */
  longPollingTimeoutSeconds?: number;
  /** extra request headers (e.g. Authorization) */
  headers?: Record<string, string>;
  /** per-request timeout for plain polling (default 30 s; long polls add their wait) */
  requestTimeoutMs?: number;
  /** largest bundle accepted, decompressed (default 1 GiB) */
  maxBytes?: number;
  /** called after every attempt with a copy of the status */
  onStatus?: (s: BundleStatus) => void;
  /** the fetch to use (default: global fetch) */
  fetch?: typeof fetch;
}

/** Downloads and activates bundles until stopped. */
export class BundlePoller {
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private longPolling = false;
  private readonly state: BundleStatus;

  constructor(private readonly o: BundlePollerOptions) {
    this.state = { name: o.name ?? o.url, metrics: { downloads: 0, notModified: 0, activations: 0, failures: 0 } };
  }

  /** A copy of the current status. */
  status(): BundleStatus {
    return structuredClone(this.state);
  }

  /** True once a bundle has been activated (a host's readiness). */
  get ready(): boolean {
    return this.state.activeRevision !== undefined;
  }

  /** Makes the first attempt (resolving when it is done, whatever its outcome), then keeps polling. */
  async start(): Promise<BundleStatus> {
    if (!this.stopped) return this.status();
    this.stopped = false;
    await this.poll();
    this.schedule();
    return this.status();
  }

  /** Stops polling; an ongoing request is aborted. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  /** One download attempt now (also what `start` and the schedule run). */
  async poll(): Promise<void> {
    const now = () => new Date().toISOString();
    this.state.lastRequest = now();
    this.abort = new AbortController();
    const wait = this.o.longPollingTimeoutSeconds;
    const timeout = setTimeout(() => this.abort?.abort(), (this.o.requestTimeoutMs ?? 30_000) + (wait ? wait * 1000 : 0));
    try {
      const headers: Record<string, string> = { ...this.o.headers };
      if (this.etag) headers['If-None-Match'] = this.etag;
      if (wait) headers.Prefer = `wait=${wait}`;
      const res = await (this.o.fetch ?? fetch)(this.o.url, { headers, signal: this.abort.signal });
      this.state.httpCode = res.status;
      this.longPolling = !!wait && (res.headers.get('content-type') ?? '').startsWith(LONG_POLLING_CONTENT_TYPE);
      if (res.status === 304) {
        this.state.lastSuccessfulRequest = now();
        this.state.metrics.notModified++;
        this.clearError();
        return;
      }
      if (res.status !== 200) throw new Error(`server replied with HTTP ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      this.state.lastSuccessfulRequest = now();
      this.state.lastSuccessfulDownload = now();
      this.state.metrics.downloads++;
      const bundle = readBundle(bytes, { verification: this.o.verification, maxBytes: this.o.maxBytes });
      await this.o.activate(bundle, bytes);
      this.etag = res.headers.get('etag') ?? undefined;
      this.state.activeRevision = bundle.manifest.revision;
      this.state.lastSuccessfulActivation = now();
      this.state.metrics.activations++;
      this.clearError();
    } catch (e) {
      if (this.stopped) return;
      this.longPolling = false;
      this.state.metrics.failures++;
      this.state.code = 'bundle_error';
      this.state.message = (e as Error).name === 'AbortError' ? 'request timed out' : (e as Error).message;
      this.state.errors = [this.state.message];
    } finally {
      clearTimeout(timeout);
      this.o.onStatus?.(this.status());
    }
  }

  private clearError(): void {
    delete this.state.code;
    delete this.state.message;
    delete this.state.errors;
  }

  private schedule(): void {
    if (this.stopped) return;
    const min = this.o.minDelayMs ?? 60_000, max = Math.max(min, this.o.maxDelayMs ?? 120_000);
    // a long-polling server already waited for a change: ask again at once
    const delay = this.longPolling ? 0 : min + Math.random() * (max - min);
    this.timer = setTimeout(() => { void this.poll().then(() => this.schedule()); }, delay);
    this.timer.unref?.();
  }
}
