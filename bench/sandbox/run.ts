/**
 * Sandbox benchmark: start-to-exit latency (p50/p99) and executions/s at concurrency 2 for `python3 -c pass` and
 * `node -e 0`, each against a plain child_process.spawn of the same interpreter in the same run (alternating, so
 * both see the same machine load). The last line is one JSON object with the ratios.
 * Env: SANDBOX_BENCH_RUNS (latency samples per case, default 60), SANDBOX_BENCH_THROUGHPUT (executions per
 * throughput round, default 60).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createSandbox, type ExecutionRequest } from '@oagf/sandbox';

const RUNS = Number(process.env.SANDBOX_BENCH_RUNS ?? 60);
const THROUGHPUT = Number(process.env.SANDBOX_BENCH_THROUGHPUT ?? 60);
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

const sandbox = await createSandbox({ concurrency: CONCURRENCY });
const results: Record<string, unknown>[] = [];
try {
  for (const c of cases) {
    const sandboxed = async () => {
      const o = await sandbox.run(c.request);
      if (o.status !== 'exited' || o.exitCode !== 0) throw new Error(`${c.name} in the sandbox: ${o.status} ${o.stderrText}`);
    };
    for (let i = 0; i < 3; i++) await Promise.all([plain(c.argv), sandboxed()]);
    const plainMs: number[] = [];
    const sandboxMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      plainMs.push(await timed(() => plain(c.argv)));
      sandboxMs.push(await timed(sandboxed));
    }
    const plainRate = await throughput(THROUGHPUT, () => plain(c.argv));
    const sandboxRate = await throughput(THROUGHPUT, sandboxed);
    results.push({
      case: c.name,
      plain_p50_ms: +percentile(plainMs, 50).toFixed(1),
      plain_p99_ms: +percentile(plainMs, 99).toFixed(1),
      sandbox_p50_ms: +percentile(sandboxMs, 50).toFixed(1),
      sandbox_p99_ms: +percentile(sandboxMs, 99).toFixed(1),
      p50_ratio: +(percentile(sandboxMs, 50) / percentile(plainMs, 50)).toFixed(2),
      plain_per_s: +plainRate.toFixed(1),
      sandbox_per_s: +sandboxRate.toFixed(1),
    });
  }
} finally {
  await sandbox.close();
}

console.log('case               plain p50/p99 ms   sandbox p50/p99 ms   p50 ratio   plain/s   sandbox/s');
for (const r of results) {
  console.log(
    `${String(r.case).padEnd(18)} ${`${r.plain_p50_ms} / ${r.plain_p99_ms}`.padEnd(18)} ${`${r.sandbox_p50_ms} / ${r.sandbox_p99_ms}`.padEnd(20)} ${String(r.p50_ratio).padEnd(11)} ${String(r.plain_per_s).padEnd(9)} ${r.sandbox_per_s}`,
  );
}
console.log(JSON.stringify({ bench: 'sandbox', concurrency: CONCURRENCY, runs: RUNS, loadavg_1m: +loadavg()[0]!.toFixed(2), targets: { p50_ratio_max: 2, sandbox_per_s_min: 20 }, results }));
