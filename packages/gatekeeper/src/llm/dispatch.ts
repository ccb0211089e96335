/**
 * One judged LLM call sent to the upstreams of its model's route: each upstream is retried (connection failures,
 * 429, 5xx, as configured) with exponential back-off, then the next one is tried. The policy decided the call once,
 * before any of this; every attempt carries the same judged request, addressed to the upstream at hand. What comes
 * back is the answer to pass on — a success, or the last failure — with the upstream that gave it and the attempts
 * before it, for the outcome record.
 */
import type { LlmRetry } from '../config/schema.js';
import { UpstreamError, upstreamErrorOf, type UpstreamRequest, type UpstreamResponse } from '../upstream/index.js';
import type { Upstream } from './upstreams.js';

/** One failed try, as the outcome record keeps it. */
export type AttemptNote = { upstream: string; status: number } | { upstream: string; error: string };

export interface Dispatched {
  answer: UpstreamResponse;
  upstream: Upstream;
  /** Tries that failed before this answer (empty when the first one answered). */
  failed: AttemptNote[];
}

export interface DispatchOptions {
  retry: LlmRetry;
  signal: AbortSignal;
  /** Told of each failed try that is followed by another (logs). */
  onRetry?: (note: AttemptNote, next: { upstream: string; delayMs: number }) => void;
  /** Waits between tries (tests replace it). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export async function dispatch(upstreams: Upstream[], request: (upstream: Upstream) => UpstreamRequest, options: DispatchOptions): Promise<Dispatched> {
  const { retry, signal } = options;
  const sleep = options.sleep ?? abortableSleep;
  const failed: AttemptNote[] = [];
  for (let u = 0; u < upstreams.length; u++) {
    const upstream = upstreams[u]!;
    const lastUpstream = u === upstreams.length - 1;
    for (let attempt = 0; ; attempt++) {
      const more = attempt < retry.retries;
      let answer: UpstreamResponse;
      try {
        answer = await upstream.client.send({ ...request(upstream), signal });
      } catch (err) {
        const e = upstreamErrorOf(upstream.client, err);
        if (e.kind === 'aborted' || signal.aborted || !retryableError(retry, e) || (lastUpstream && !more)) throw e;
        const note = { upstream: upstream.name, error: e.message };
        failed.push(note);
        if (!more) break;
        await wait(options, sleep, note, upstream, backoff(retry, attempt));
        continue;
      }
      if (!retryableStatus(retry, answer.status) || (lastUpstream && !more)) return { answer, upstream, failed };
      const asked = retryAfterMs(answer.headers);
      // An upstream that asks for a longer pause than we would wait is left for the next one (or answered as it is).
      if (asked !== undefined && asked > retry.max_ms && lastUpstream) return { answer, upstream, failed };
      await answer.body.dump().catch(() => {});
      const note = { upstream: upstream.name, status: answer.status };
      failed.push(note);
      if (!more || (asked !== undefined && asked > retry.max_ms)) break;
      await wait(options, sleep, note, upstream, asked ?? backoff(retry, attempt));
    }
    if (!lastUpstream) options.onRetry?.(failed.at(-1)!, { upstream: upstreams[u + 1]!.name, delayMs: 0 });
  }
  // Unreachable: the last upstream's last try returns or throws above.
  throw new UpstreamError('failed', 'no upstream to call');
}

async function wait(options: DispatchOptions, sleep: NonNullable<DispatchOptions['sleep']>, note: AttemptNote, upstream: Upstream, delayMs: number): Promise<void> {
  options.onRetry?.(note, { upstream: upstream.name, delayMs });
  await sleep(delayMs, options.signal);
  if (options.signal.aborted) throw new UpstreamError('aborted', `the call to upstream "${upstream.name}" was cancelled`);
}

function retryableError(retry: LlmRetry, e: UpstreamError): boolean {
  if (e.kind === 'timeout') return retry.on.includes('timeout');
  return e.kind === 'unreachable' && retry.on.includes('connection');
}

function retryableStatus(retry: LlmRetry, status: number): boolean {
  return (status === 429 && retry.on.includes('429')) || (status >= 500 && status <= 599 && retry.on.includes('5xx'));
}

/** Exponential back-off with jitter in its upper half, so callers that failed together do not retry together. */
function backoff(retry: LlmRetry, attempt: number): number {
  const ceiling = Math.min(retry.max_ms, retry.initial_ms * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** `retry-after-ms` (OpenAI), else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const first = (name: string) => [headers[name]].flat()[0];
  const ms = Number(first('retry-after-ms'));
  if (first('retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = first('retry-after');
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
