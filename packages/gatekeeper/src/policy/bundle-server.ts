/**
 * Policy from an OPA-compatible bundle server: @oagf/rego's BundlePoller downloads (ETag, long polling), reads and
 * verifies; a bundle becomes active here only once it also compiles. A failed download, a bad signature or a bundle
 * that does not compile keeps the previous one active, and shows in the status (/readyz, metrics). Every replica
 * polls the same URL, which is how all of them decide under the same policy.
 */
import { BundlePoller, type BundleStatus, type VerificationOptions } from '@oagf/rego';
import type { PolicyEvaluator, PolicySource } from './engine.js';
import type { BundleEvents } from './source.js';

export type PolicyEvents = BundleEvents & { downloaded(result: 'downloaded' | 'not_modified' | 'failed'): void };
import { fromOpaBundle, requireSignature } from './opa-bundle.js';
import { compileBundle, type EvalLimits } from './rego.js';

export interface BundleServerOptions {
  url: string;
  verification?: VerificationOptions;
  minDelayMs: number;
  maxDelayMs: number;
  longPollingTimeoutSeconds?: number;
  headers?: Record<string, string>;
  /** the fetch to use (tests); default global fetch */
  fetch?: typeof fetch;
}

export class BundleServerSource implements PolicySource {
  private active?: PolicyEvaluator;
  private readonly poller: BundlePoller;
  private lastError?: string;

  constructor(
    private readonly o: BundleServerOptions,
    private readonly limits: EvalLimits,
    private readonly events: PolicyEvents,
  ) {
    let seen = { downloads: 0, notModified: 0, failures: 0 };
    this.poller = new BundlePoller({
      url: o.url,
      verification: o.verification,
      minDelayMs: o.minDelayMs,
      maxDelayMs: o.maxDelayMs,
      longPollingTimeoutSeconds: o.longPollingTimeoutSeconds,
      headers: o.headers,
      fetch: o.fetch,
      activate: (bundle, archive) => {
        requireSignature(bundle, o.verification, o.url);
        const files = fromOpaBundle(bundle, archive, o.url);
        const next = compileBundle(files, this.limits);
        if (next.digest === this.active?.digest) return;
        this.active = next;
        this.events.loaded(next.digest, o.url, files.revision);
      },
      onStatus: (s) => {
        const m = s.metrics;
        if (m.notModified > seen.notModified) this.events.downloaded('not_modified');
        else if (m.failures > seen.failures) this.events.downloaded('failed');
        else if (m.downloads > seen.downloads) this.events.downloaded('downloaded');
        if (m.failures > seen.failures && s.message !== this.lastError) this.events.rejected(s.message ?? 'bundle download failed', o.url);
        this.lastError = s.code ? s.message : undefined;
        seen = { ...m };
      },
    });
  }

  current(): PolicyEvaluator | undefined {
    return this.active;
  }

  /** Makes the first download attempt (resolving whatever its outcome), then keeps polling. */
  async start(): Promise<BundleStatus> {
    return this.poller.start();
  }

  /** The OPA-style bundle status, for /readyz. */
  status(): BundleStatus {
    return this.poller.status();
  }

  /** Why no policy is active, while none is. */
  problem(): string | undefined {
    if (this.active) return undefined;
    const s = this.poller.status();
    return `no policy bundle has been activated from ${this.o.url}${s.message ? `: ${s.message}` : ''}`;
  }

  close(): void {
    this.poller.stop();
  }
}
