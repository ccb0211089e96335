/**
 * Sandbox benchmark: start-to-exit latency (p50/p99) and executions/s at concurrency 2 for `python3 -c pass` and
 * `node -e 0`, each against a plain child_process.spawn of the same interpreter in the same run (alternating, so
 * all see the same machine load), for the default sandbox (warm pool) and one without (warm: 0). The last line is
 * one JSON object with the ratios.
 * Env: SANDBOX_BENCH_RUNS (latency samples per case, default 60), SANDBOX_BENCH_THROUGHPUT (executions per
 * throughput round, default 60); --quick: 4 and 6 (a smoke run, not a measurement).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createSandbox, type ExecutionRequest } from '@oagf/sandbox';
import { QUICK, sized } from '../quick.js';

const RUNS = sized('SANDBOX_BENCH_RUNS', 60, 4);
const THROUGHPUT = sized('SANDBOX_BENCH_THROUGHPUT', 60, 6);
const CONCURRENCY = 2;

const cases: { name: string; argv: string[]; request: ExecutionRequest }[] = [
  { name: 'python3 -c pass', argv: ['/usr/bin/python3', '-c', 'pass'], request: { language: 'python', code: 'pass' } },
  { name: 'node -e 0', argv: ['/usr/bin/node', '-e', '0'], request: { language: 'javascript', code: '0' } },
];

// The sandbox gives the code a small environment; the plain spawn gets the same, not this process's (with
// NODE_EXTRA_CA_CERTS set, for one, every plain `node` would load a CA bundle the sandboxed one does not).
const PLAIN_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

function plain(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: PLAIN_ENV });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function throughput(total: number, fn: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < total) await fn();
  }));
  return total / ((performance.now() - t) / 1000);
}

// The default sandbox keeps prepared sandboxes warm; the cold one sets each up on request (warm: 0). Both run in
// the same loop as the plain spawn, so the ratios compare like with like.
const sandboxes = { warm: await createSandbox({ concurrency: CONCURRENCY }), cold: await createSandbox({ concurrency: CONCURRENCY, warm: 0 }) };
const results: Record<string, unknown>[] = [];
try {
  for (const c of cases) {
    const run = (which: keyof typeof sandboxes) => async () => {
      const o = await sandboxes[which].run(c.request);
      if (o.status !== 'exited' || o.exitCode !== 0) throw new Error(`${c.name} in the sandbox: ${o.status} ${o.stderrText}`);
    };
    for (let i = 0; i < 3; i++) await Promise.all([plain(c.argv), run('warm')(), run('cold')()]);
    const ms = { plain: [] as number[], warm: [] as number[], cold: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      ms.plain.push(await timed(() => plain(c.argv)));
      ms.warm.push(await timed(run('warm')));
      ms.cold.push(await timed(run('cold')));
    }
    const rate = {
      plain: await throughput(THROUGHPUT, () => plain(c.argv)),
      warm: await throughput(THROUGHPUT, run('warm')),
      cold: await throughput(THROUGHPUT, run('cold')),
    };
    const p50 = (xs: number[]) => percentile(xs, 50);
    results.push({
      case: c.name,
      plain_p50_ms: +p50(ms.plain).toFixed(1),
      plain_p99_ms: +percentile(ms.plain, 99).toFixed(1),
      sandbox_p50_ms: +p50(ms.warm).toFixed(1),
      sandbox_p99_ms: +percentile(ms.warm, 99).toFixed(1),
      p50_ratio: +(p50(ms.warm) / p50(ms.plain)).toFixed(2),
      cold_p50_ms: +p50(ms.cold).toFixed(1),
      cold_p99_ms: +percentile(ms.cold, 99).toFixed(1),
      cold_p50_ratio: +(p50(ms.cold) / p50(ms.plain)).toFixed(2),
      plain_per_s: +rate.plain.toFixed(1),
      sandbox_per_s: +rate.warm.toFixed(1),
      cold_per_s: +rate.cold.toFixed(1),
    });
  }
} finally {
  await Promise.all(Object.values(sandboxes).map((s) => s.close()));
}

console.log('case              plain p50/p99 ms  sandbox (warm) p50/p99  ratio  cold p50/p99    ratio  plain/s  warm/s  cold/s');
for (const r of results) {
  const pair = (a: unknown, b: unknown) => `${a} / ${b}`;
  console.log(
    [
      String(r.case).padEnd(17),
      pair(r.plain_p50_ms, r.plain_p99_ms).padEnd(17),
      pair(r.sandbox_p50_ms, r.sandbox_p99_ms).padEnd(23),
      String(r.p50_ratio).padEnd(6),
      pair(r.cold_p50_ms, r.cold_p99_ms).padEnd(15),
      String(r.cold_p50_ratio).padEnd(6),
      String(r.plain_per_s).padEnd(8),
      String(r.sandbox_per_s).padEnd(7),
      String(r.cold_per_s),
    ].join(' '),
  );
}
console.log(JSON.stringify({ bench: 'sandbox', quick: QUICK, concurrency: CONCURRENCY, runs: RUNS, loadavg_1m: +loadavg()[0]!.toFixed(2), targets: { p50_ratio_max: 2, sandbox_per_s_min: 20 }, results }));
