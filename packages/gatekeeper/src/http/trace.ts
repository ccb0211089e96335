/** W3C Trace Context: continue the caller's trace (or start one) and hand a child span to the upstream. */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface TraceContext {
  traceId: string;
  /** traceparent header value to send upstream (new span id, same trace). */
  traceparent: string;
  tracestate?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function traceFrom(headers: IncomingHttpHeaders): TraceContext {
  const m = TRACEPARENT.exec(String(headers.traceparent ?? '').trim().toLowerCase());
  const valid = m && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!);
  const traceId = valid ? m[2]! : randomBytes(16).toString('hex');
  const flags = valid ? m[4]! : '01';
  const state = headers.tracestate;
  return {
    traceId,
    traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`,
    ...(valid && state ? { tracestate: Array.isArray(state) ? state.join(',') : state } : {}),
  };
}
