/** The Telemetry implementation on the OpenTelemetry SDK: one tracer provider per gatekeeper, OTLP/HTTP export. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { SpanHandle, SpanKindName, Telemetry } from './index.js';

export interface OtelOptions {
  serviceName: string;
  version: string;
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  endpoint: string;
  headers: Record<string, string>;
  sampleRatio: number;
  /** Export batching delay (ms). */
  flushMs: number;
  /** Another exporter instead of OTLP (tests). */
  exporter?: SpanExporter;
}

const KINDS: Record<SpanKindName, SpanKind> = { internal: SpanKind.INTERNAL, client: SpanKind.CLIENT, server: SpanKind.SERVER };
const propagator = new W3CTraceContextPropagator();
let contextManagerInstalled = false;

export function otelTelemetry(o: OtelOptions): Telemetry {
  if (!contextManagerInstalled) {
    // Spans nest through async calls: the gate's decision inside the request, the upstream call inside the decision.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    contextManagerInstalled = true;
  }
  const exporter = o.exporter ?? new OTLPTraceExporter({ url: o.endpoint, headers: o.headers });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName, 'service.version': o.version }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: o.flushMs })],
  });
  const tracer = provider.getTracer('@oagf/gatekeeper', o.version);
  const handle = (span: Span): SpanHandle => ({
    set: (a) => span.setAttributes(a),
    fail: (err) => {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
    },
    end: () => span.end(),
  });

  return {
    enabled: true,
    serve(listener) {
      return (req: IncomingMessage, res: ServerResponse) => {
        const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
        const url = req.url ?? '/';
        const path = url.split('?')[0]!;
        const span = tracer.startSpan(`${req.method} ${path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path } }, parent);
        res.once('close', () => {
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        });
        context.with(trace.setSpan(parent, span), () => listener(req, res));
      };
    },
    inSpan(name, kind, attributes, fn) {
      return tracer.startActiveSpan(name, { kind: KINDS[kind], attributes }, async (span) => {
        const h = handle(span);
        try {
          return await fn(h);
        } catch (err) {
          h.fail(err);
          throw err;
        } finally {
          span.end();
        }
      });
    },
    traceparent() {
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, defaultTextMapSetter);
      return carrier.traceparent;
    },
    shutdown: () => provider.shutdown(),
  };
}

export type { Attributes };
