/**
 * Load generation in the bench's own process over keep-alive undici pools: the open loop (requests on a fixed
 * schedule whatever the responses do, latency from the scheduled send time: no coordinated omission) and the
 * time to a stream's first text. Closed-loop load is wrk's (wrk.ts).
 */
import { Pool } from 'undici';

export interface Target {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Percentiles {
  p50: number;
  p99: number;
  count: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function once(pool: Pool, t: Target): Promise<boolean> {
  const res = await pool.request({ method: 'POST', path: t.path, headers: t.headers, body: t.body });
  await res.body.dump();
  return res.statusCode === 200;
}

export function poolFor(t: Target, connections = 128): Pool {
  return new Pool(t.origin, { connections, keepAliveTimeout: 60_000, pipelining: 1 });
}

/**
 * Sends `rate` requests per second for `seconds`; returns latency percentiles in ms. The loop sleeps on a timer
 * between sends (it never spins a core): at each wake it sends every request already due, and each request's
 * latency counts from its due time, so a late wake-up or a slow response is charged, never hidden.
 */
export async function openLoop(t: Target, rate: number, seconds: number): Promise<Percentiles> {
  const pool = poolFor(t, 256);
  await Promise.all(Array.from({ length: 32 }, () => once(pool, t))); // warm connections
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const send = (due: number) =>
    once(pool, t).then(
      (ok) => {
        if (ok) latencies.push(performance.now() - due);
        else errors++;
      },
      () => void errors++,
    );
  const start = performance.now();
  for (let i = 0; i < total; ) {
    const now = performance.now();
    for (; i < total && start + i * interval <= now; i++) pending.push(send(start + i * interval));
    if (i < total) await new Promise((r) => setTimeout(r, Math.max(0, start + i * interval - performance.now())));
  }
  await Promise.all(pending);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length, errors };
}

/** Time from sending a streamed request to the first byte of its first text delta, per request (ms). */
export async function timeToFirstText(t: Target, samples: number, marker: string): Promise<Percentiles> {
  const pool = poolFor(t, 4);
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < samples + 5; i++) {
    const started = performance.now();
    const res = await pool.request({ method: 'POST', path: t.path, headers: t.headers, body: t.body });
    let seen = '';
    let first: number | undefined;
    for await (const c of res.body) {
      if (first === undefined) {
        seen += (c as Buffer).toString('utf8');
        if (seen.includes(marker)) first = performance.now() - started;
      }
    }
    if (i < 5) continue; // warm-up
    if (first === undefined || res.statusCode !== 200) errors++;
    else times.push(first);
  }
  await pool.close();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), count: times.length, errors };
}
