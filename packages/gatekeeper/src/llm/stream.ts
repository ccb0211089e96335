/**
 * Carries an upstream's server-sent events through a protocol's stream gate to the agent: the upstream is read
 * only as fast as the agent takes the output, error events are scrubbed of the gatekeeper's credentials on the way
 * (errors are where upstreams echo requests), and how the stream ended is reported for settling the escrow.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { GateHttpError } from '../http/errors.js';
import { upstreamErrorOf, type Scrubber, type UpstreamResponse } from '../upstream/index.js';
import { encodeSse, SseParser, type SseEvent } from './sse.js';
import type { Upstream } from './upstreams.js';

export interface StreamGate {
  push(event: SseEvent): void;
  /** Resolves when every held item has been decided and written. */
  finish(): Promise<void>;
}

export interface StreamProtocol {
  /** Whether an event (parsed, when it is JSON) is or carries an error the upstream sent. */
  isError(event: SseEvent, parsed: unknown): boolean;
  /** An error event in the protocol's format (`encodeSse`). */
  errorEvent(error: GateHttpError): SseEvent;
}

/** How a pumped stream ended: through (the gate wrote everything), cut by the upstream, or by a fault while gating. */
export type StreamEnd = 'complete' | 'upstream_failed' | 'gate_fault';

export async function pumpStream(
  answer: UpstreamResponse,
  res: ServerResponse,
  gate: StreamGate,
  upstream: Upstream,
  protocol: StreamProtocol,
  abort: AbortController,
): Promise<StreamEnd> {
  const parser = new SseParser();
  try {
    for await (const chunk of answer.body) {
      res.cork();
      for (const event of parser.push(chunk as Buffer)) gate.push(scrubbedEvent(event, upstream, protocol));
      res.uncork();
      // A slow agent slows the upstream read instead of growing the gatekeeper's buffers.
      if (res.writableNeedDrain) await once(res, 'drain', { signal: abort.signal });
    }
  } catch (err) {
    if (!abort.signal.aborted) {
      await gate.finish().catch(() => {});
      res.end(protocol.errorEvent(upstreamErrorOf(upstream.client, err).toHttp()).raw);
      return 'upstream_failed';
    }
  }
  try {
    await gate.finish();
  } catch (err) {
    if (!res.writableEnded) res.end(protocol.errorEvent(asGateHttpError(err)).raw);
    return 'gate_fault';
  }
  if (!res.writableEnded) res.end();
  return 'complete';
}

/** An error inside a stream, scrubbed like an error response; withheld whole when a secret survives in it. */
function scrubbedEvent(event: SseEvent, upstream: Upstream, protocol: StreamProtocol): SseEvent {
  if (event.event !== 'error' && !event.data.includes('"error"')) return event;
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.data);
  } catch {
    return event.event === 'error' ? withheldError(upstream, protocol) : event;
  }
  if (!protocol.isError(event, parsed)) return event;
  const scrubber: Scrubber = upstream.client.scrubber;
  const data = JSON.stringify(scrubber.value(parsed));
  if (scrubber.leaks(data)) return withheldError(upstream, protocol);
  return data === JSON.stringify(parsed) ? event : { ...event, data, raw: encodeSse(data, event.event) };
}

function withheldError(upstream: Upstream, protocol: StreamProtocol): SseEvent {
  return protocol.errorEvent(
    new GateHttpError('upstream_error', `upstream "${upstream.name}" sent an error in the stream; its message is withheld (it may hold the gatekeeper's credentials)`),
  );
}

/** Anything that is not already a GateHttpError is a gatekeeper fault: fail closed. */
export function asGateHttpError(err: unknown): GateHttpError {
  if (err instanceof GateHttpError) return err;
  return new GateHttpError('gatekeeper_fault', `gatekeeper fault: ${(err as Error)?.message ?? String(err)}`);
}
