/** `rego eval`: evaluate a query, printing OPA's JSON output. */
import type { Command } from 'commander';
import { compile } from '../policy.js';
import { load, readInput } from './load.js';
import { jsonOut, run } from './report.js';

const collect = (v: string, acc: string[]) => [...acc, v];

export function evalCommand(program: Command): void {
  program.command('eval')
    .description('evaluate a query')
    .argument('<query>', 'Rego query, e.g. data.authz.allow')
    .option('-d, --data <path>', 'policy (.rego) or data (.json/.yaml) file or directory (repeatable)', collect, [] as string[])
    .option('-i, --input <file>', 'input document (JSON or YAML)')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .option('--strict-builtin-errors', 'treat builtin errors as fatal')
    .option('--explain', 'list the rules that contributed to the result')
    .option('--profile', 'add a profile: per expression, evaluations and time (as opa eval --profile)')
    .action((query: string, o: { data: string[]; input?: string; v0Compatible?: boolean; strictBuiltinErrors?: boolean; explain?: boolean; profile?: boolean }) => run((ctx) => {
      const l = (ctx.loaded = load(o.data));
      const policy = compile({ modules: l.modules, data: l.data, regoVersion: o.v0Compatible ? 'v0' : 'v1', strictBuiltinErrors: !!o.strictBuiltinErrors });
      const input = o.input ? readInput(o.input) : undefined;
      const profile = o.profile ? new Map<string, { evals: number; ns: number }>() : undefined;
      const res = policy.prepare(query).eval({ input, explain: o.explain, profile });
      const result = res.results.map((r) => ({
        expressions: r.expressions.map((x) => ({ value: x.value, text: x.text, location: { row: 1, col: 1 } })),
        ...(Object.keys(r.bindings).length ? { bindings: r.bindings } : {}),
      }));
      process.stdout.write(`${jsonOut({ ...(result.length ? { result } : {}), ...(res.explanation ? { explanation: res.explanation } : {}), ...(profile ? { profile: profileRows(profile) } : {}) })}\n`);
    }, !!o.v0Compatible));
}

/** OPA's profile rows, slowest first (num_eval counts how often the expression was evaluated). */
function profileRows(p: Map<string, { evals: number; ns: number }>) {
  return [...p.entries()]
    .filter(([loc]) => !loc.startsWith('query:'))
    .sort((a, b) => b[1].ns - a[1].ns)
    .map(([loc, s]) => {
      const m = /^(.*):(\d+):(\d+)$/.exec(loc)!;
      return { total_time_ns: s.ns, num_eval: s.evals, location: { file: m[1], row: Number(m[2]), col: Number(m[3]) } };
    });
}
