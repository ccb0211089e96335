/**
 * Load generation over keep-alive undici pools. Open loop: requests are sent on a fixed schedule whatever
 * the responses do, and latency is measured from the scheduled send time (no coordinated omission).
 * Closed loop: a fixed number of workers send back to back, for maximum throughput.
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

/** Sends `rate` requests per second for `seconds`; returns latency percentiles in ms. */
export async function openLoop(t: Target, rate: number, seconds: number): Promise<Percentiles> {
  const pool = poolFor(t, 256);
  await Promise.all(Array.from({ length: 32 }, () => once(pool, t))); // warm connections
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    // Never early (latency counts from `due`): sleep on a timer, then yield turn by turn for the last
    // millisecond, which timers cannot resolve.
    for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) {
      await new Promise((r) => (wait >= 1 ? setTimeout(r, wait - 0.5) : setImmediate(r)));
    }
    pending.push(
      once(pool, t).then(
        (ok) => {
          if (ok) latencies.push(performance.now() - due);
          else errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length, errors };
}

/** Requests per second with `workers` back-to-back senders for `seconds`. */
export async function maxRate(t: Target, workers: number, seconds: number): Promise<{ rps: number; errors: number }> {
  const pool = poolFor(t, workers);
  await Promise.all(Array.from({ length: workers }, () => once(pool, t)));
  let done = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        try {
          if (await once(pool, t)) done++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  return { rps: done / elapsed, errors };
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
