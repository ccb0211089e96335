/** Public engine API: compile modules into a Policy, prepare queries, evaluate with a budget. */
import type { Body, Expr, Module, Term } from './ast.js';
import type { HostHooks } from './builtins/registry.js';
import { Compiler } from './compiler/compile.js';
import { schemaType } from './compiler/types.js';
import { Resolver } from './compiler/resolve.js';
import { isGenerated, rewriteNegatedDynamics } from './compiler/dynamics.js';
import { orderBody } from './compiler/safety.js';
import { shapeBody } from './compiler/shape.js';
import { RegoError, type RegoErrorDetail } from './errors.js';
import { Evaluator } from './eval.js';
import { parseModule, parseQuery, type RegoVersion } from './parser.js';
import { ConversionError, fromJSON, fromJSONLazy, toJSON, type Value } from './value.js';

export interface CompileOptions {
  /** filename → source */
  modules: Record<string, string>;
  data?: unknown;
  regoVersion?: RegoVersion;
  strictBuiltinErrors?: boolean;
  /** OPA's strict compiler mode (`opa check --strict`): unused imports, assigned vars and arguments are errors */
  strict?: boolean;
  /** a JSON schema of `input`: references outside it and wrong types are rego_type_error (`opa check -s`) */
  inputSchema?: unknown;
  host?: HostHooks;
  /** environment visible to builtins (default: none; the process environment is never exposed implicitly) */
  env?: Record<string, string | undefined>;
  /** where print() output goes (default: stderr) */
  print?: (msg: string) => void;
}

export interface Budget {
  maxSteps?: number;
  timeoutMs?: number;
}

export interface EvalResult {
  results: Array<{ expressions: { value: unknown; text: string }[]; bindings: Record<string, unknown> }>;
  explanation?: { rule: string; location: string }[];
}

export interface EvalOpts {
  input?: unknown;
  budget?: Budget;
  /** list the rules whose bodies succeeded */
  explain?: boolean;
  /** collects `file:row` of every expression evaluated and rule head that produced a value */
  coverage?: Set<string>;
  /** collects, per expression location (`file:row:col`), evaluations and time spent (eval --profile) */
  profile?: Map<string, { evals: number; ns: number }>;
}

export interface PreparedQuery {
  eval(opts?: EvalOpts): EvalResult;
  /** Same as eval, but keeps Rego values (sets, exact numbers) in results. */
  evalValues(opts?: EvalOpts): Array<{ expressions: Value[]; bindings: Record<string, Value> }>;
}

export interface Policy {
  prepare(query: string): PreparedQuery;
  modules: string[];
  /** parsed modules (for tools such as `rego test`) */
  parsed: Module[];
}

const DEFAULT_BUDGET = { maxSteps: 10_000_000, timeoutMs: 5_000 };

export function compile(opts: CompileOptions): Policy {
  return compileModules(parseModules(opts.modules, opts.regoVersion ?? 'v1'), opts);
}

/** Parses every module, reporting the parse errors of all of them at once. */
export function parseModules(modules: Record<string, string>, version: RegoVersion): Module[] {
  const parsed: Module[] = [];
  const errors: RegoErrorDetail[] = [];
  for (const [file, src] of Object.entries(modules)) {
    try {
      parsed.push(parseModule(src, file, version));
    } catch (e) {
      if (e instanceof RegoError) errors.push(...e.errors);
      else throw e;
    }
  }
  if (errors.length) throw new RegoError(errors);
  return parsed;
}

/** Compiles modules parsed already (tools that rewrite modules first, such as the test runner). */
export function compileModules(parsed: Module[], opts: Omit<CompileOptions, 'modules'>): Policy {
  const version = opts.regoVersion ?? 'v1';
  const compiler = new Compiler(parsed, { strict: opts.strict, inputType: opts.inputSchema === undefined ? undefined : schemaType(opts.inputSchema) });
  compiler.compile();
  const data = safeFromJSON(opts.data ?? {}, 'data');
  const root = compiler.root;
  return {
    modules: parsed.map((m) => m.file),
    parsed,
    prepare(query: string): PreparedQuery {
      const body = parseQuery(query, version);
      const { ordered, shown, names, nslots, texts } = compileQuery(body, query, compiler.funcs);
      const capture = texts.length === 1 && names.size === 0;
      const e0 = ordered[0];
      const single = capture && ordered.length === 1 && e0.k === 'term' && !e0.negated && !e0.with.length ? { term: e0.term, nslots } : undefined;
      // the evaluator of the last plain evaluation (no explain, coverage or profile), reused by the next one
      let idle: Evaluator | undefined;
      const run = (o: EvalOpts = {}) => {
        const input = o.input === undefined ? undefined : safeFromJSON(o.input, 'input', fromJSONLazy);
        const maxSteps = o.budget?.maxSteps ?? DEFAULT_BUDGET.maxSteps;
        const deadline = Date.now() + (o.budget?.timeoutMs ?? DEFAULT_BUDGET.timeoutMs);
        const plain = !o.explain && !o.coverage && !o.profile;
        let ev = plain ? idle : undefined;
        // taken while in use, so an evaluation started from inside this one (a host hook) gets its own
        idle = undefined;
        if (ev) ev.reset(input, maxSteps, deadline);
        else {
          ev = new Evaluator(root, {
            input, data, strict: opts.strictBuiltinErrors ?? false, host: opts.host ?? {}, env: opts.env ?? {},
            maxSteps, deadline, explain: o.explain ?? false, coverage: o.coverage, profile: o.profile,
            print: opts.print ?? ((m) => process.stderr.write(`${m}\n`)),
          });
        }
        const rows: Array<{ expressions: Value[]; bindings: Record<string, Value> }> = [];
        if (single) {
          // a query of one term (data.x.allow): its values are the rows, no step chain is needed
          ev.tick();
          guard(evalSingle, ev, single, rows);
        } else guard(evalSteps, ev, nslots, rows);
        if (o.profile) ev.profileUntilNow();
        if (plain) idle = ev;
        return { rows, explanation: o.explain ? [...ev.explained.values()] : undefined, texts };
      };
      /** The rows of a query of several expressions, or with bindings to show. */
      const evalSteps = (ev: Evaluator, nslots: number, rows: Array<{ expressions: Value[]; bindings: Record<string, Value> }>): void => {
        const frame: Value[] = new Array(nslots);
        const values: Value[] = [];
        const step = (i: number): boolean => {
          ev.tick();
          if (i === ordered.length) {
            const bindings: Record<string, Value> = {};
            for (const [name, slot] of names) if (frame[slot] !== undefined) bindings[name] = frame[slot];
            rows.push({ expressions: shown.map((j) => values[j] ?? true), bindings });
            return false;
          }
          const e = ordered[i];
          if (e.k === 'term' && !e.negated && !e.with.length) {
            return ev.evalTerm(e.term, frame, (v) => {
              if (v === false && !capture) return false;
              values[i] = v;
              return step(i + 1);
            });
          }
          values[i] = true;
          return ev.evalExpr(e, frame, () => step(i + 1));
        };
        step(0);
      };
      return {
        evalValues: (o) => run(o).rows,
        eval(o) {
          const r = run(o);
          return {
            results: r.rows.map((row) => ({
              expressions: row.expressions.map((v, i) => ({ value: toJSON(v), text: r.texts[i] })),
              bindings: names.size ? Object.fromEntries(Object.entries(row.bindings).map(([k, v]) => [k, toJSON(v)])) : {},
            })),
            ...(r.explanation ? { explanation: r.explanation } : {}),
          };
        },
      };
    },
  };
}

/** The compiled query; `shown`: indices of the expressions written in it (results list those, with `texts`). */
function compileQuery(body: Body, src: string, funcs: Map<string, number>): { ordered: Body; shown: number[]; names: Map<string, number>; nslots: number; texts: string[] } {
  const errors: RegoErrorDetail[] = [];
  const res = new Resolver({ funcs, pkg: [], ruleRoots: new Set(), imports: new Map(), v1: false }, errors);
  const scope = { vars: new Map<string, number>(), alloc: { n: 0 } };
  res.declareBody(body, scope, [], new Set());
  const resolved = res.body(body, scope);
  const ordered = rewriteNegatedDynamics(orderBody(resolved, new Set(), errors), scope.alloc);
  if (errors.length) throw new RegoError(errors);
  const names = new Map<string, number>();
  for (const [n, s] of scope.vars) if (!n.startsWith('$') && n !== '_') names.set(n, s);
  const lines = src.split(/\n/);
  const shown = ordered.flatMap((e, i) => (isGenerated(e) ? [] : [i]));
  const texts = shown.map((i) => exprText(lines, ordered[i], body));
  return { ordered: shapeBody(ordered), shown, names, nslots: scope.alloc.n, texts };
}

/** Source text of a query expression: from its start to the next expression's start. */
function exprText(lines: string[], e: Expr, all: Body): string {
  const starts = all.map((x) => [x.loc.row, x.loc.col] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const idx = starts.findIndex(([r, c]) => r === e.loc.row && c === e.loc.col);
  const next = starts[idx + 1];
  const line = lines[e.loc.row - 1] ?? '';
  const end = next && next[0] === e.loc.row ? next[1] - 1 : line.length;
  return line.slice(e.loc.col - 1, end).replace(/[;\s]+$/, '').trim();
}

/** Converts host JSON to a Rego value; nesting too deep for the stack becomes a clear error. */
function safeFromJSON(x: unknown, what: string, convert = fromJSON): Value {
  try {
    return convert(x);
  } catch (e) {
    if (e instanceof RangeError) throw RegoError.single('eval_input_error', `${what} is nested too deeply`);
    throw RegoError.single('eval_input_error', `${what}: ${(e as Error).message}`);
  }
}

/** The rows of a query of one term: its values. */
function evalSingle(ev: Evaluator, q: { term: Term; nslots: number }, rows: Array<{ expressions: Value[]; bindings: Record<string, Value> }>): void {
  ev.evalTerm(q.term, q.nslots ? new Array(q.nslots) : NO_SLOTS, (v) => { rows.push({ expressions: [v], bindings: {} }); return false; });
}

/** The frame of a query term without variables (the commonest, data.x.allow): never written. */
const NO_SLOTS: Value[] = [];

/** Runs an evaluation, turning stack exhaustion (deep recursion/input) into a RegoError. */
function guard<A, B, C>(f: (a: A, b: B, c: C) => void, a: A, b: B, c: C): void {
  try {
    f(a, b, c);
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw RegoError.single('eval_recursion_error', 'evaluation exceeded the maximum nesting depth');
    }
    // a member of the lazily converted input that is no JSON value
    if (e instanceof ConversionError) throw RegoError.single('eval_input_error', `input: ${e.message}`);
    throw e;
  }
}
