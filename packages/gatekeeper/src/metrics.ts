/**
 * Prometheus metrics on a per-server registry (several gatekeepers can live in one process, e.g. in tests).
 * Plug-ins add their own metrics to `metrics.registry`.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({
    name: 'gatekeeper_decisions_total',
    help: 'Decisions by outcome, surface and fault code ("" when none)',
    labelNames: ['outcome', 'surface', 'fault'] as const,
    registers: [this.registry],
  });
  readonly decisionSeconds = new Histogram({
    name: 'gatekeeper_decision_duration_seconds',
    help: 'Time from receiving an action to its durable decision record',
    labelNames: ['surface'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamSeconds = new Histogram({
    name: 'gatekeeper_upstream_duration_seconds',
    help: 'Upstream call latency until response headers',
    labelNames: ['upstream', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'gatekeeper_errors_total',
    help: 'Errors by kind (HTTP error kinds, plug-in failures, policy reload rejections)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly policyReloads = new Counter({
    name: 'gatekeeper_policy_reloads_total',
    help: 'Policy bundle (re)loads by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly bundleDownloads = new Counter({
    name: 'gatekeeper_policy_bundle_downloads_total',
    help: 'Bundle server requests by result (downloaded, not_modified, failed: unreachable, refused or not compiling)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
