/**
 * The test runner behind `rego test`, following OPA's tester: rules whose name (the last element of the head
 * reference) starts with `test_` are tests, `todo_` ones are skipped; a test passes when its value is `true`;
 * two tests of one name in a package are two tests (`test_x`, `test_x#01`, ...), each run and counted.
 */
import type { Body, Module, Rule, Term } from './ast.js';
import { compileModules, parseModules, type CompileOptions, type Policy } from './policy.js';

export interface TestOutcome {
  /** e.g. `data.pkg.test_allow`, `data.pkg.test_allow#01` */
  name: string;
  passed: boolean;
  skipped: boolean;
  error?: string;
  /** the test rule's location */
  file: string;
  row: number;
  /** wall time of the evaluation */
  durationNs: number;
}

const lastName = (ref: Term[]): string | undefined => {
  const last = ref[ref.length - 1];
  return last.t === 'scalar' && typeof last.v === 'string' ? last.v : undefined;
};

/** OPA's rewriteDuplicateTestNames: a repeated test gets `#01`, `#02`, ... (counted per full rule path). */
export function renameDuplicateTests(modules: Module[]): void {
  const count = new Map<string, number>();
  for (const m of modules) {
    for (const r of m.rules) {
      const name = lastName(r.head.ref);
      if (!name?.startsWith('test_')) continue;
      const key = [...m.package, ...r.head.ref.map((t) => (t.t === 'scalar' ? String(t.v) : '?'))].join('.');
      const k = count.get(key);
      if (k !== undefined) {
        const last = r.head.ref[r.head.ref.length - 1];
        r.head.ref = [...r.head.ref.slice(0, -1), { t: 'scalar', v: `${name}#${String(k).padStart(2, '0')}`, loc: last.loc }];
      }
      count.set(key, (k ?? 0) + 1);
    }
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `data.a.b["test_x#01"]`: the rule's path as a query. */
function refQuery(path: string[]): string {
  return path.map((p, i) => (i === 0 ? p : IDENT.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
}

/** Compiles the modules with duplicate tests renamed. */
export function compileForTests(opts: CompileOptions): Policy {
  const parsed = parseModules(opts.modules, opts.regoVersion ?? 'v1');
  renameDuplicateTests(parsed);
  return compileModules(parsed, opts);
}

/** The tests of a compiled policy (files in name order, rules in source order): name, query, and whether skipped. */
export function testQueries(policy: Policy): { name: string; query: string; skipped: boolean; file: string; row: number }[] {
  const out: { name: string; query: string; skipped: boolean; file: string; row: number }[] = [];
  const modules = [...policy.parsed].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const m of modules) {
    for (const r of m.rules) {
      const name = lastName(r.head.ref);
      if (!name || r.head.args || r.head.ref.some((t) => t.t !== 'scalar')) continue;
      const isTest = name.startsWith('test_'), isTodo = name.startsWith('todo_');
      if (!isTest && !isTodo) continue;
      const path = [...m.package, ...r.head.ref.map((t) => String((t as { v: unknown }).v))];
      const full = path.join('.');
      // a test with several bodies (or an else) is one test
      if (out.some((x) => x.name === full)) continue;
      out.push({ name: full, query: refQuery(path), skipped: isTodo, file: m.file, row: r.loc.row });
    }
  }
  return out;
}

/** Runs every test of the modules, like `opa test`; `coverage` collects what they evaluated. */
export function runTests(opts: CompileOptions, each?: (o: TestOutcome) => void, coverage?: Set<string>): TestOutcome[] {
  const policy = compileForTests(opts);
  return testQueries(policy).map((t) => {
    const o: TestOutcome = { name: t.name, passed: false, skipped: t.skipped, file: t.file, row: t.row, durationNs: 0 };
    if (!t.skipped) {
      const t0 = process.hrtime.bigint();
      try {
        const rs = policy.prepare(t.query).evalValues({ budget: { timeoutMs: 30_000 }, coverage });
        o.passed = rs.length > 0 && rs[0].expressions[0] === true;
      } catch (e) {
        o.error = (e as Error).message;
      }
      o.durationNs = Number(process.hrtime.bigint() - t0);
    }
    each?.(o);
    return o;
  });
}

interface Range { start: { row: number }; end: { row: number } }
export interface FileCoverage { covered?: Range[]; not_covered?: Range[]; covered_lines: number; not_covered_lines: number; coverage: number }
export interface CoverageReport { files: Record<string, FileCoverage>; covered_lines: number; not_covered_lines: number; coverage: number }

const ranges = (rows: number[]): Range[] => {
  const out: Range[] = [];
  for (const r of rows.sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last.end.row + 1 >= r) last.end.row = Math.max(last.end.row, r);
    else out.push({ start: { row: r }, end: { row: r } });
  }
  return out;
};
const pct = (c: number, n: number) => (c + n === 0 ? 100 : Math.round((c / (c + n)) * 10000) / 100);

/** OPA's coverage report: per file, the lines of rule heads and expressions the tests evaluated, and the rest. */
export function coverageReport(modules: Module[], seen: Set<string>): CoverageReport {
  const files: Record<string, FileCoverage> = {};
  let covered = 0, notCovered = 0;
  for (const m of modules) {
    const lines = new Set<number>();
    const body = (b: Body) => { for (const e of b) { lines.add(e.loc.row); if (e.k === 'every') body(e.body); } };
    for (const r of m.rules) for (let cur: Rule | undefined = r; cur; cur = cur.else) { lines.add(cur.loc.row); body(cur.body); }
    const yes = [...lines].filter((l) => seen.has(`${m.file}:${l}`)), no = [...lines].filter((l) => !seen.has(`${m.file}:${l}`));
    // in the key order of OPA's report
    files[m.file] = {
      ...(yes.length ? { covered: ranges(yes) } : {}), ...(no.length ? { not_covered: ranges(no) } : {}),
      covered_lines: yes.length, not_covered_lines: no.length, coverage: pct(yes.length, no.length),
    };
    covered += yes.length;
    notCovered += no.length;
  }
  return { files, covered_lines: covered, not_covered_lines: notCovered, coverage: pct(covered, notCovered) };
}
