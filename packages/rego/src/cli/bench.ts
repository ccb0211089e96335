/**
 * `rego bench` and `rego test --bench`: Go-benchmark-style timing as `opa bench` reports it: the query is run
 * in rounds of growing size until a round takes the benchmark time, then the last round is reported (samples,
 * ns/op, and percentiles of the single evaluations).
 */
import type { Command } from 'commander';
import { compile } from '../policy.js';
import { load, readInput } from './load.js';
import { jsonOut, run } from './report.js';

export interface BenchResult { N: number; T: number; nsPerOp: number; percentiles: Record<string, number> }

/** Times `f` like Go's testing.Benchmark: N grows until one round lasts at least `benchtimeMs`. */
export function benchmark(f: () => unknown, benchtimeMs = 1000): BenchResult {
  let n = 1;
  for (;;) {
    const times = new Float64Array(n);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      f();
      times[i] = Number(process.hrtime.bigint() - s);
    }
    const total = Number(process.hrtime.bigint() - t0);
    if (total >= benchtimeMs * 1e6 || n >= 1e9) {
      times.sort();
      const pct = (p: number) => Math.round(times[Math.min(n - 1, Math.floor(n * p))]);
      return {
        N: n, T: total, nsPerOp: Math.round(total / n),
        percentiles: { '50%': pct(0.5), '75%': pct(0.75), '90%': pct(0.9), '95%': pct(0.95), '99%': pct(0.99), '99.9%': pct(0.999) },
      };
    }
    // Go's predictN: aim past the bench time, growing at most 100x per round
    const perOp = Math.max(total / n, 1);
    n = Math.max(n + 1, Math.min(Math.ceil((benchtimeMs * 1e6 * 1.2) / perOp), n * 100));
  }
}

export function benchTable(r: BenchResult): string {
  const rows: [string, string][] = [['samples', String(r.N)], ['ns/op', String(r.nsPerOp)]];
  for (const [p, v] of Object.entries(r.percentiles)) rows.push([`histogram_timer_rego_query_eval_ns_${p}`, String(v)]);
  const w0 = Math.max(...rows.map((x) => x[0].length)), w1 = Math.max(...rows.map((x) => x[1].length));
  const line = `+${'-'.repeat(w0 + 2)}+${'-'.repeat(w1 + 2)}+`;
  return `${line}\n${rows.map(([a, b]) => `| ${a.padEnd(w0)} | ${b.padStart(w1)} |`).join('\n')}\n${line}\n`;
}

const collect = (v: string, acc: string[]) => [...acc, v];

export function benchCommand(program: Command): void {
  program.command('bench')
    .description('benchmark a query (as opa bench)')
    .argument('<query>', 'Rego query')
    .option('-d, --data <path>', 'policy or data file or directory (repeatable)', collect, [] as string[])
    .option('-i, --input <file>', 'input document')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .option('--benchtime <ms>', 'time per benchmark round, in ms', '1000')
    .option('--count <n>', 'how many benchmarks to run', '1')
    .option('-f, --format <format>', 'pretty or json', 'pretty')
    .action((query: string, o: { data: string[]; input?: string; v0Compatible?: boolean; benchtime: string; count: string; format: string }) => run((ctx) => {
      const l = (ctx.loaded = load(o.data));
      const q = compile({ modules: l.modules, data: l.data, regoVersion: o.v0Compatible ? 'v0' : 'v1' }).prepare(query);
      const input = o.input ? readInput(o.input) : undefined;
      q.eval({ input });
      for (let i = 0; i < Number(o.count); i++) {
        const r = benchmark(() => q.evalValues({ input }), Number(o.benchtime));
        process.stdout.write(o.format === 'json' ? `${jsonOut({ N: r.N, T: r.T, Bytes: 0, MemAllocs: 0, MemBytes: 0, Extra: Object.fromEntries(Object.entries(r.percentiles).map(([p, v]) => [`histogram_timer_rego_query_eval_ns_${p}`, v])) })}\n` : benchTable(r));
      }
    }, !!o.v0Compatible));
}
