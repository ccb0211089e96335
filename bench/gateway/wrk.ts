/**
 * Closed-loop load with wrk (post.lua sends the target's POST body and headers and prints one WRK {...} line),
 * pinned with taskset to the load generator's CPUs.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTaskset } from './procs.js';
import type { Target } from './load.js';

export interface WrkResult {
  rps: number;
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
}

const SCRIPT = fileURLToPath(new URL('post.lua', import.meta.url));

/** Runs wrk against `t` with `connections` connections for `seconds`; latency in ms. */
export async function wrk(t: Target, o: { connections: number; seconds: number; cpus?: string; scratch: string }): Promise<WrkResult> {
  const bodyFile = join(o.scratch, `${t.name}.body`);
  writeFileSync(bodyFile, t.body);
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '10s', '-s', SCRIPT, `${t.origin}${t.path}`];
  const [cmd, argv] = o.cpus && hasTaskset ? ['taskset', ['-c', o.cpus, 'wrk', ...args]] : ['wrk', args];
  const headers = Object.entries(t.headers).map(([k, v]) => `${k}: ${v}`).join('\n');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(cmd as string, argv as string[], { env: { ...process.env, BENCH_BODY_FILE: bodyFile, BENCH_HEADERS: headers }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
  });
  const line = out.split('\n').find((l) => l.startsWith('WRK '));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const s = JSON.parse(line.slice(4)) as { requests: number; duration_us: number; non2xx: number; socket_errors: number; p50_us: number; p90_us: number; p99_us: number };
  const ok = s.requests - s.non2xx;
  return { rps: ok / (s.duration_us / 1e6), requests: s.requests, errors: s.non2xx + s.socket_errors, p50: s.p50_us / 1000, p90: s.p90_us / 1000, p99: s.p99_us / 1000 };
}
