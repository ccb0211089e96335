/**
 * Traces: the agent's request (SERVER span, continuing the agent's W3C trace context), the policy decision, the
 * ledger append and every upstream call (CLIENT spans; LLM calls with the OpenTelemetry GenAI attributes), exported
 * over OTLP/HTTP with the official OpenTelemetry packages when `telemetry:` is configured. Without it the gatekeeper
 * uses NO_TELEMETRY: every hook is a direct call of the wrapped function, nothing is allocated or exported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes } from '@opentelemetry/api';

/** A span the caller may annotate before it ends. */
export interface SpanHandle {
  set(attributes: Attributes): void;
  fail(err: unknown): void;
  end(): void;
}

export type SpanKindName = 'internal' | 'client' | 'server';

export interface Telemetry {
  readonly enabled: boolean;
  /** Serves a request inside a SERVER span that continues the caller's `traceparent`. */
  serve(listener: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void;
  /** Runs `fn` in a child span of the current one, ended when `fn` settles (failed when it throws). */
  inSpan<T>(name: string, kind: SpanKindName, attributes: Attributes, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  /** The `traceparent` for an outbound call made from the current span; undefined when tracing is off. */
  traceparent(): string | undefined;
  shutdown(): Promise<void>;
}

const NOOP_SPAN: SpanHandle = { set() {}, fail() {}, end() {} };

export const NO_TELEMETRY: Telemetry = {
  enabled: false,
  serve: (listener) => listener,
  inSpan: (_name, _kind, _attributes, fn) => fn(NOOP_SPAN),
  traceparent: () => undefined,
  shutdown: async () => {},
};
