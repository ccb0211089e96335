/**
 * Top-down evaluator. Continuation-passing: every evaluation step calls `k` once per solution;
 * `k` returns true to halt the search (used for negation, early exit and `every`).
 * Variables live in a per-rule frame of slots; bindings are undone when `k` returns.
 */
import type { Body, DataWalk, Expr, Term } from './ast.js';
import { BUILTINS } from './builtins/index.js';
import { describeKinds, OperandTypeError, specKinds, type ArgKinds, type BuiltinContext, type BuiltinDef, type HostHooks } from './builtins/registry.js';
import type { CRule, RuleNode } from './compiler/rule-tree.js';
import { BudgetExceededError, RegoError, type Location } from './errors.js';
import { buildIndex, candidatesFor } from './indexing.js';
import { metadataChain, metadataRule } from './metadata.js';
import { compare, equal, isNum, makeSet, RObject, RSet, typeName, valueToString, type Value } from './value.js';
import { toSafeInt } from './num.js';

type K = () => boolean;
type KV = (v: Value) => boolean;

export interface EvalOptions {
  input?: Value;
  data: Value;
  strict: boolean;
  host: HostHooks;
  env: Record<string, string | undefined>;
  maxSteps: number;
  deadline: number;
  explain: boolean;
  print: (msg: string) => void;
  /** `file:row` of every expression evaluated and every rule head that produced a value (coverage) */
  coverage?: Set<string>;
  /** per expression location: evaluations and the time until the next expression started (eval --profile) */
  profile?: Map<string, { evals: number; ns: number }>;
}

type Mock = { kind: 'value'; v: Value } | { kind: 'func'; name: string };

const UNDEF = Symbol('undefined');
const NO_MOCKS = new Map<string, Mock>();
const NO_OVERRIDES: readonly { path: Value[]; value: Value }[] = [];
const NOT_DIRECT = Symbol('not-direct');
/** Outcomes of directStep other than a bound slot (slots are >= 0). */
const STEP_FAIL = -1;
const STEP_PASS = -2;
const STEP_OTHER = -3;
const EMPTY: Value[] = [];
type Cached = Value | typeof UNDEF;

/** Memo scopes are numbered process-wide and never reused (see RuleNode.memoScope). */
let lastScope = 0;

export class Evaluator {
  private input: Value | undefined;
  private data: Value;
  /**
   * Rule values and user-function results (scalar arguments only) of this query are memoized on the rule nodes
   * under this scope number; each `with` scope has its own number. A node holds one scope's memo at a time: a
   * value another scope overwrote is computed again, never mistaken for this scope's.
   */
  private scope = ++lastScope;
  /** replaced (never mutated) when `with data` adds overrides */
  private overrides: readonly { path: Value[]; value: Value }[] = NO_OVERRIDES;
  /** replaced (never mutated) when `with` adds mocks */
  private mocks: Map<string, Mock> = NO_MOCKS;
  private steps = 0;
  private ctxCache: BuiltinContext | undefined;
  private ruleStack: CRule[] = [];
  readonly explained = new Map<string, { rule: string; location: string }>();
  private nowNs: bigint | undefined;

  /** set when coverage or profiling is on: expressions are then reported to `visit` */
  private readonly cov: Set<string> | undefined;
  private lastLoc: string | undefined;
  private lastAt = 0n;

  constructor(private root: RuleNode, private opts: EvalOptions) {
    this.cov = opts.coverage ?? (opts.profile ? new Set() : undefined);
    this.input = opts.input;
    this.data = opts.data;
  }

  /**
   * Readies this evaluator for another query of the same options but input and budget (a prepared query keeps
   * one evaluator for its plain evaluations instead of making one per query).
   */
  reset(input: Value | undefined, maxSteps: number, deadline: number): void {
    this.input = this.opts.input = input;
    this.opts.maxSteps = maxSteps;
    this.opts.deadline = deadline;
    this.scope = ++lastScope;
    this.overrides = NO_OVERRIDES;
    this.mocks = NO_MOCKS;
    this.steps = 0;
    if (this.ruleStack.length) this.ruleStack = [];
    this.nowNs = undefined;
    // the per-query builtin cache starts empty; the context object itself is kept
    if (this.ctxCache && this.ctxCache.cache.size) this.ctxCache.cache = new Map();
  }

  /** Builtin context, made on the first builtin call (most queries of simple policies need none). */
  private get ctx(): BuiltinContext {
    if (this.ctxCache) return this.ctxCache;
    const self = this, opts = this.opts;
    this.ctxCache = {
      strict: opts.strict,
      now() { if (self.nowNs === undefined) self.nowNs = BigInt(Date.now()) * 1_000_000n; return self.nowNs; },
      env: opts.env,
      host: opts.host,
      cache: new Map(),
      print: opts.print,
    };
    return this.ctxCache;
  }

  // ---------- bodies and expressions ----------

  /**
   * Expressions whose terms have at most one value (see `direct`) are decided in a loop, and an assignment of
   * such a term to an unbound var binds it in place: no continuation is made for them. The rest go through
   * evalExpr.
   */
  evalBody(body: Body, i: number, frame: Value[], k: K): boolean {
    for (; ; i++) {
      this.tick();
      if (i === body.length) return k();
      const e = body[i];
      if (e.with.length) break;
      if (e.k !== 'somein') {
        const step = this.directStep(e, frame);
        // expressions decided here are reported here; the others by evalExpr
        if (this.cov && step !== STEP_OTHER) this.covered(e);
        if (step === STEP_FAIL) return false;
        if (step === STEP_OTHER) break;
        if (step === STEP_PASS) continue;
        try { return this.evalBody(body, i + 1, frame, k); } finally { frame[step] = undefined as unknown as Value; }
      } else if (!e.negated) {
        // `some v in c` / `some k, v in c` with fresh vars: bind each element in place
        const vs = unboundSlot(e.value, frame);
        const ks = e.key ? unboundSlot(e.key, frame) : undefined;
        if (vs === undefined || (e.key && (ks === undefined || ks === vs))) break;
        const c = this.direct(e.coll, frame);
        if (c === NOT_DIRECT) break;
        if (this.cov) this.covered(e);
        try {
          if (Array.isArray(c)) {
            for (let j = 0; j < c.length; j++) {
              if (ks !== undefined) frame[ks] = j;
              frame[vs] = c[j];
              if (this.evalBody(body, i + 1, frame, k)) return true;
            }
          } else if (c instanceof RObject) {
            for (const [ck, cv] of c.entries()) {
              if (ks !== undefined) frame[ks] = ck;
              frame[vs] = cv;
              if (this.evalBody(body, i + 1, frame, k)) return true;
            }
          } else if (c instanceof RSet) {
            for (const cv of c.values()) {
              if (ks !== undefined) frame[ks] = cv;
              frame[vs] = cv;
              if (this.evalBody(body, i + 1, frame, k)) return true;
            }
          }
          return false;
        } finally {
          frame[vs] = undefined as unknown as Value;
          if (ks !== undefined) frame[ks] = undefined as unknown as Value;
        }
      } else break;
    }
    return this.evalExprThen(body, i, frame, k);
  }

  /** The general case of evalBody, apart so that evalBody itself makes no closure (nor a context for one). */
  private evalExprThen(body: Body, i: number, frame: Value[], k: K): boolean {
    return this.evalExpr(body[i], frame, () => this.evalBody(body, i + 1, frame, k));
  }

  tick(): void {
    if (++this.steps > this.opts.maxSteps) throw new BudgetExceededError(`evaluation budget exceeded: more than ${this.opts.maxSteps} steps`);
    if ((this.steps & 1023) === 0 && Date.now() > this.opts.deadline) throw new BudgetExceededError('evaluation budget exceeded: wall-time limit reached');
  }

  private covered(e: Expr): void {
    const loc = `${e.loc.file}:${e.loc.row}:${e.loc.col}`;
    this.cov!.add(`${e.loc.file}:${e.loc.row}`);
    const p = this.opts.profile;
    if (!p) return;
    this.profileUntilNow();
    this.lastLoc = loc;
    let s = p.get(loc);
    if (!s) p.set(loc, (s = { evals: 0, ns: 0 }));
    s.evals++;
  }

  /** Attributes the time since the last expression started to that expression (call once more at the end). */
  profileUntilNow(): void {
    const now = process.hrtime.bigint();
    if (this.lastLoc) this.opts.profile!.get(this.lastLoc)!.ns += Number(now - this.lastAt);
    this.lastAt = now;
  }

  evalExpr(e: Expr, frame: Value[], k: K): boolean {
    if (this.cov) this.covered(e);
    if (e.with.length) return this.evalWith(e, frame, k);
    if (e.negated) return this.evalExprInner(e, frame, () => true) ? false : k();
    return this.evalExprInner(e, frame, k);
  }

  private evalExprInner(e: Expr, frame: Value[], k: K): boolean {
    switch (e.k) {
      case 'term': return this.evalTerm(e.term, frame, (v) => v !== false && k());
      case 'unify': case 'assign': return this.unify(e.a, e.b, frame, k);
      case 'some': return k();
      case 'somein': {
        const { key, value } = e;
        return this.evalTerm(e.coll, frame, (c) => this.iterate(c, (ck, cv) => key
          ? this.unifyValue(key, ck, frame, () => this.unifyValue(value, cv, frame, k))
          : this.unifyValue(value, cv, frame, k)));
      }
      case 'every': {
        const { key, value, body } = e;
        return this.evalTerm(e.coll, frame, (c) => {
          if (!Array.isArray(c) && !(c instanceof RObject) && !(c instanceof RSet)) return false;
          let all = true;
          this.iterate(c, (ck, cv) => {
            const ok = key
              ? this.unifyValue(key, ck, frame, () => this.unifyValue(value, cv, frame, () => this.evalBody(body, 0, frame, () => true)))
              : this.unifyValue(value, cv, frame, () => this.evalBody(body, 0, frame, () => true));
            if (!ok) { all = false; return true; }
            return false;
          });
          return all && k();
        });
      }
    }
  }

  /** Calls f(key, value) for each element of a collection; stops when f returns true. */
  private iterate(c: Value, f: (k: Value, v: Value) => boolean): boolean {
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) if (f(i, c[i])) return true;
    } else if (c instanceof RObject) {
      for (const [k, v] of c.entries()) if (f(k, v)) return true;
    } else if (c instanceof RSet) {
      for (const v of c.values()) if (f(v, v)) return true;
    }
    return false;
  }

  // ---------- with ----------

  /** Evaluates `e` (or `run`, when given) with e's `with` modifiers in force. */
  private evalWith(e: Expr, frame: Value[], k: K, run?: (k: K) => boolean): boolean {
    const inner: Expr = { ...e, with: [] };
    const vals: Value[] = [];
    const collect = (i: number): boolean => {
      if (i === e.with.length) return this.applyWith(e, vals, run ?? ((kk) => this.evalExpr(inner, frame, kk)), k);
      const w = e.with[i];
      const fm = this.funcMockTarget(w.value);
      if (fm !== undefined) { vals[i] = { __func: fm } as unknown as Value; return collect(i + 1); }
      return this.evalTerm(w.value, frame, (v) => { vals[i] = v; return collect(i + 1); });
    };
    return collect(0);
  }

  /** A `with` value naming a function (user function or builtin) rather than a value. */
  private funcMockTarget(t: Term): string | undefined {
    if (t.t === 'ref' && t.head.t === 'var' && t.head.name === 'data' && t.path.every((p) => p.t === 'scalar' && typeof p.v === 'string')) {
      const node = this.root.find(t.path.map((p) => (p as { v: string }).v));
      if (node?.kind === 'func') return `data.${node.path.join('.')}`;
    }
    if (t.t === 'var' && t.slot === undefined && BUILTINS[t.name]) return t.name;
    return undefined;
  }

  private applyWith(e: Expr, vals: Value[], run: (k: K) => boolean, k: K): boolean {
    const saved = { input: this.input, overrides: this.overrides, mocks: this.mocks, scope: this.scope };
    let input = this.input;
    let overrides = this.overrides;
    let mocks = this.mocks;
    e.with.forEach((w, i) => {
      const v = vals[i];
      const fm = (v as unknown as { __func?: string })?.__func;
      const target = w.target;
      if (target.t === 'scalar') {
        if (mocks === this.mocks) mocks = new Map(mocks);
        mocks.set(target.v as string, fm !== undefined ? { kind: 'func', name: fm } : { kind: 'value', v });
        return;
      }
      const head = target.t === 'var' ? target.name : target.t === 'ref' && target.head.t === 'var' ? target.head.name : '';
      const path = target.t === 'ref' ? target.path.map((p) => (p as { v: Value }).v) : [];
      if (head === 'input') {
        input = path.length === 0 ? v : setPath(input, path, v);
      } else if (head === 'data') {
        const node = this.root.find(path as string[]);
        if (node?.kind === 'func') {
          if (mocks === this.mocks) mocks = new Map(mocks);
          mocks.set(`data.${path.join('.')}`, fm !== undefined ? { kind: 'func', name: fm } : { kind: 'value', v });
        } else {
          overrides = [...overrides.filter((o) => !isPrefix(path, o.path)), { path, value: v }];
        }
      }
    });
    const scope = ++lastScope;
    const apply = () => { this.input = input; this.overrides = overrides; this.mocks = mocks; this.scope = scope; };
    const restore = () => { this.input = saved.input; this.overrides = saved.overrides; this.mocks = saved.mocks; this.scope = saved.scope; };
    apply();
    try {
      return run(() => { restore(); try { return k(); } finally { apply(); } });
    } finally {
      restore();
    }
  }

  // ---------- unification ----------

  unify(a: Term, b: Term, frame: Value[], k: K): boolean {
    if (a.t === 'var' && a.slot !== undefined && frame[a.slot] === undefined) return this.evalTerm(b, frame, (v) => this.unifyValue(a, v, frame, k));
    if (b.t === 'var' && b.slot !== undefined && frame[b.slot] === undefined) return this.evalTerm(a, frame, (v) => this.unifyValue(b, v, frame, k));
    if (a.t === 'array' && b.t === 'array') {
      if (a.items.length !== b.items.length) return false;
      const pair = (i: number): boolean => i === a.items.length ? k() : this.unify(a.items[i], b.items[i], frame, () => pair(i + 1));
      return pair(0);
    }
    if (a.t === 'object' && b.t === 'object' && this.hasUnbound(a, frame) && this.hasUnbound(b, frame)) {
      if (a.items.length !== b.items.length) return false;
      const pairs: [Term, Term][] = [];
      for (const [ka, va] of a.items) {
        const m = b.items.find(([kb]) => sameKey(ka, kb, frame));
        if (!m) return false;
        pairs.push([va, m[1]]);
      }
      const pair = (i: number): boolean => i === pairs.length ? k() : this.unify(pairs[i][0], pairs[i][1], frame, () => pair(i + 1));
      return pair(0);
    }
    if (this.hasUnbound(a, frame)) return this.evalTerm(b, frame, (v) => this.unifyValue(a, v, frame, k));
    return this.evalTerm(a, frame, (v) => this.unifyValue(b, v, frame, k));
  }

  private hasUnbound(t: Term, frame: Value[]): boolean {
    switch (t.t) {
      case 'var': return t.slot !== undefined && frame[t.slot] === undefined;
      case 'array': return t.items.some((x) => this.hasUnbound(x, frame));
      case 'object': return t.items.some(([, v]) => this.hasUnbound(v, frame));
      default: return false;
    }
  }

  /** Matches a term (pattern) against a value, binding unbound vars. */
  unifyValue(t: Term, v: Value, frame: Value[], k: K): boolean {
    switch (t.t) {
      case 'var': {
        if (t.slot === undefined) return this.evalTerm(t, frame, (x) => equal(x, v) && k());
        const cur = frame[t.slot];
        if (cur === undefined) {
          frame[t.slot] = v;
          try { return k(); } finally { frame[t.slot] = undefined as unknown as Value; }
        }
        return equal(cur, v) && k();
      }
      case 'scalar': case 'const': return equal(t.v, v) && k();
      case 'array': {
        if (!Array.isArray(v) || v.length !== t.items.length) return false;
        const step = (i: number): boolean => i === v.length ? k() : this.unifyValue(t.items[i], v[i], frame, () => step(i + 1));
        return step(0);
      }
      case 'object': {
        if (!(v instanceof RObject) || v.size !== t.items.length) return false;
        const step = (i: number): boolean => {
          if (i === t.items.length) return k();
          const [kt, vt] = t.items[i];
          return this.evalTerm(kt, frame, (kv) => {
            const x = v.get(kv);
            return x !== undefined && this.unifyValue(vt, x, frame, () => step(i + 1));
          });
        };
        return step(0);
      }
      default:
        return this.evalTerm(t, frame, (x) => equal(x, v) && k());
    }
  }

  // ---------- terms ----------

  evalTerm(t: Term, frame: Value[], k: KV): boolean {
    const d = this.direct(t, frame);
    if (d !== NOT_DIRECT) return d !== undefined && k(d);
    return this.evalTermGeneral(t, frame, k);
  }

  /**
   * Follows a ref's path from `v`, position `i` on, without continuations. In base data a number key also finds
   * the member named by its text: base documents are JSON, whose keys are strings.
   */
  private directPath(v: Value | undefined, path: Term[], i: number, frame: Value[], baseData: boolean): Value | undefined | typeof NOT_DIRECT {
    for (; i < path.length; i++) {
      if (v === undefined) return undefined;
      const key = this.directKey(path[i], frame);
      if (key === NOT_DIRECT) return NOT_DIRECT;
      if (key === undefined) return undefined;
      const x: Value | undefined = lookup(v, key);
      v = baseData && x === undefined && isNum(key) && v instanceof RObject ? v.get(valueToString(key)) : x;
    }
    return v;
  }

  /**
   * Evaluates a term that has at most one value without continuations (refs with bound keys,
   * base data, builtin calls, literals). Returns NOT_DIRECT when the general path is needed.
   */
  private direct(t: Term, frame: Value[]): Value | undefined | typeof NOT_DIRECT {
    switch (t.t) {
      case 'scalar': case 'const': return t.v;
      case 'var':
        if (t.slot !== undefined) { const v = frame[t.slot]; return v === undefined ? NOT_DIRECT : v; }
        return t.name === 'input' ? this.input : NOT_DIRECT;
      case 'ref': {
        const h = t.head;
        let v: Value | undefined;
        let i = 0;
        const path = t.path;
        if (h.t === 'var' && h.slot === undefined) {
          if (h.name === 'input') v = this.input;
          else if (h.name === 'data') {
            if (this.overrides.length) return NOT_DIRECT;
            // walk namespace nodes while no rules are met; then continue in base data, or in the rules' value
            const w = (t.walk ??= this.walkGround(path));
            let node = w.node, base = w.base;
            i = w.i;
            for (; i < path.length && node && !node.kind; i++) {
              const key = this.directKey(path[i], frame);
              if (key === NOT_DIRECT) return NOT_DIRECT;
              if (typeof key !== 'string') return NOT_DIRECT;
              node = node.children.get(key);
              base = base instanceof RObject ? base.get(key) : undefined;
            }
            if (!node) return this.directPath(base, path, i, frame, true);
            // a rule (or namespace) document, as evalData takes it when no `with data` overrides are in force
            if (node.kind === 'func') return NOT_DIRECT;
            if (i < path.length && node.children.size === 0 && (node.kind === 'set' || (node.kind === 'object' && this.cached(node) === undefined))) {
              const key = this.directKey(path[i], frame);
              if (key === NOT_DIRECT) return NOT_DIRECT;
              if (key === undefined) return undefined;
              v = node.kind === 'set' ? (this.setHas(node, key) ? key : undefined) : this.objectGet(node, key);
              i++;
            } else v = this.nodeValue(node, base, node.path);
          } else return NOT_DIRECT;
        } else {
          const hv = this.direct(h, frame);
          if (hv === NOT_DIRECT) return NOT_DIRECT;
          v = hv;
        }
        return this.directPath(v, path, i, frame, false);
      }
      case 'call': {
        if (this.mocks.size) return NOT_DIRECT;
        const def = t.builtin;
        // a user function has one value per arguments, so its calls are direct too
        const fn = def ? undefined : t.fn ?? (t.fn = this.root.byName(t.op) ?? null);
        if (def ? def.relation : fn?.kind !== 'func') return NOT_DIRECT;
        const args = t.args;
        const lit = t.literalArg;
        if (lit !== undefined) return this.equalLiteral(args[1 - lit], args[lit], frame);
        const bin = def?.binary;
        if (bin !== undefined) {
          const a = this.directKey(args[0], frame);
          if (a === NOT_DIRECT || a === undefined) return a;
          const b = this.directKey(args[1], frame);
          if (b === NOT_DIRECT || b === undefined) return b;
          return bin(a, b);
        }
        const vals: Value[] = new Array(args.length);
        for (let i = 0; i < args.length; i++) {
          const v = this.directKey(args[i], frame);
          if (v === NOT_DIRECT) return NOT_DIRECT;
          if (v === undefined) return undefined;
          vals[i] = v;
        }
        return def ? this.callBuiltin(def, vals, t.loc, t.kinds ??= kindsOf(def)) : this.userValue(fn!, vals, t.loc);
      }
      case 'array': {
        const out: Value[] = new Array(t.items.length);
        for (let i = 0; i < out.length; i++) {
          const v = this.direct(t.items[i], frame);
          if (v === NOT_DIRECT || v === undefined) return v;
          out[i] = v;
        }
        return out;
      }
      case 'object': {
        const o = new RObject();
        for (const [kt, vt] of t.items) {
          const kv = this.direct(kt, frame);
          if (kv === NOT_DIRECT || kv === undefined) return kv;
          const vv = this.direct(vt, frame);
          if (vv === NOT_DIRECT || vv === undefined) return vv;
          o.set(kv, vv);
        }
        return o;
      }
      default: return NOT_DIRECT;
    }
  }

  /**
   * `a == <array or object literal>` without building the literal (a comparison against a literal made of
   * input fields is the commonest test in a rule body): undefined when any part is, as the built literal would be.
   */
  private equalLiteral(a: Term, lit: Term, frame: Value[]): boolean | undefined | typeof NOT_DIRECT {
    const v = this.direct(a, frame);
    if (v === NOT_DIRECT || v === undefined) return v;
    let same = true;
    if (lit.t === 'array') {
      const items = lit.items;
      if (!Array.isArray(v) || v.length !== items.length) same = false;
      for (let i = 0; i < items.length; i++) {
        const x = this.direct(items[i], frame);
        if (x === NOT_DIRECT || x === undefined) return x;
        if (same && !equal((v as Value[])[i], x)) same = false;
      }
      return same;
    }
    const items = (lit as Term & { t: 'object' }).items;
    if (!(v instanceof RObject) || v.size !== items.length) same = false;
    for (let i = 0; i < items.length; i++) {
      const x = this.direct(items[i][1], frame);
      if (x === NOT_DIRECT || x === undefined) return x;
      if (same) {
        const w = (v as RObject).get((items[i][0] as Term & { t: 'scalar' }).v);
        if (w === undefined || !equal(w, x)) same = false;
      }
    }
    return same;
  }

  /** The part of a `data` reference's walk that its constant keys decide (see DataWalk). */
  private walkGround(path: Term[]): DataWalk {
    let node: RuleNode | undefined = this.root;
    let base: Value | undefined = this.data;
    let i = 0;
    for (; i < path.length && (node ? !node.kind : base !== undefined); i++) {
      const p = path[i];
      if (p.t !== 'scalar' || typeof p.v !== 'string') break;
      if (node) {
        node = node.children.get(p.v);
        base = base instanceof RObject ? base.get(p.v) : undefined;
      } else base = lookup(base!, p.v);
    }
    return { i, node, base };
  }

  /** `direct` for a reference key or call argument: constants and bound vars without the general dispatch. */
  private directKey(p: Term, frame: Value[]): Value | undefined | typeof NOT_DIRECT {
    if (p.t === 'scalar' || p.t === 'const') return p.v;
    if (p.t === 'var' && p.slot !== undefined) { const v = frame[p.slot]; return v === undefined ? NOT_DIRECT : v; }
    return this.direct(p, frame);
  }

  private evalTermGeneral(t: Term, frame: Value[], k: KV): boolean {
    switch (t.t) {
      case 'scalar': case 'const': return k(t.v);
      case 'var': {
        if (t.slot !== undefined) {
          const v = frame[t.slot];
          if (v === undefined) throw RegoError.single('eval_internal_error', `var ${t.name} is unbound`, t.loc);
          return k(v);
        }
        if (t.name === 'input') return this.input !== undefined && k(this.input);
        if (t.name === 'data') return this.evalData(this.root, this.data, [], [], 0, frame, k);
        throw RegoError.single('eval_internal_error', `unresolved name ${t.name}`, t.loc);
      }
      case 'ref': return this.evalRef(t, frame, k);
      case 'array': return this.evalList(t.items, 0, [], frame, (xs) => k(xs));
      case 'set': return this.evalList(t.items, 0, [], frame, (xs) => { const s = new RSet(); for (const x of xs) s.add(x); return k(s); });
      case 'object': {
        const flat = t.items.flat();
        return this.evalList(flat, 0, [], frame, (xs) => {
          const o = new RObject();
          for (let i = 0; i < xs.length; i += 2) o.set(xs[i], xs[i + 1]);
          return k(o);
        });
      }
      case 'call': return this.evalCall(t, frame, k);
      case 'arraycomp': {
        const out: Value[] = [];
        this.evalBody(t.body, 0, frame, () => this.evalTerm(t.head, frame, (v) => { out.push(v); return false; }));
        return k(out);
      }
      case 'setcomp': {
        const out = new RSet();
        this.evalBody(t.body, 0, frame, () => this.evalTerm(t.head, frame, (v) => { out.add(v); return false; }));
        return k(out);
      }
      case 'objcomp': {
        const out = new RObject();
        this.evalBody(t.body, 0, frame, () => this.evalTerm(t.key, frame, (kv) => this.evalTerm(t.value, frame, (vv) => {
          const prev = out.get(kv);
          if (prev !== undefined && !equal(prev, vv)) throw RegoError.single('eval_conflict_error', 'object keys must be unique', t.loc);
          out.set(kv, vv);
          return false;
        })));
        return k(out);
      }
      case 'template': return this.evalTemplate(t.parts, 0, '', frame, k);
      case 'withterm': {
        let val: Value = null;
        const e: Expr = { k: 'term', term: t.term, negated: false, with: t.with, loc: t.loc };
        return this.evalWith(e, frame, () => k(val), (kk) => this.evalTerm(t.term, frame, (v) => { val = v; return kk(); }));
      }
    }
  }

  private evalTemplate(parts: (string | Term)[], i: number, acc: string, frame: Value[], k: KV): boolean {
    if (i === parts.length) return k(acc);
    const p = parts[i];
    if (typeof p === 'string') return this.evalTemplate(parts, i + 1, acc + p, frame, k);
    const vals: Value[] = [];
    this.evalTerm(p, frame, (v) => { vals.push(v); return false; });
    if (vals.length > 1) {
      const distinct = vals.filter((v, j) => vals.findIndex((w) => equal(v, w)) === j);
      if (distinct.length > 1) throw RegoError.single('eval_conflict_error', 'template expression produced multiple outputs', p.loc);
    }
    const text = vals.length === 0 ? '<undefined>' : typeof vals[0] === 'string' ? vals[0] : valueToString(vals[0]);
    return this.evalTemplate(parts, i + 1, acc + text, frame, k);
  }

  private evalList(items: Term[], i: number, acc: Value[], frame: Value[], k: (xs: Value[]) => boolean): boolean {
    if (i === items.length) return k(acc.slice());
    return this.evalTerm(items[i], frame, (v) => { acc[i] = v; return this.evalList(items, i + 1, acc, frame, k); });
  }

  // ---------- references ----------

  private evalRef(t: Term & { t: 'ref' }, frame: Value[], k: KV): boolean {
    const h = t.head;
    if (h.t === 'var' && h.slot === undefined) {
      if (h.name === 'data') return this.evalData(this.root, this.data, [], t.path, 0, frame, k);
      if (h.name === 'input') return this.input !== undefined && this.evalPath(this.input, t.path, 0, frame, k);
    }
    return this.evalTerm(h, frame, (v) => this.evalPath(v, t.path, 0, frame, k));
  }

  /** `inData`: numbers used as keys of base-data objects also match their string form, as in OPA. */
  private evalPath(v: Value, path: Term[], i: number, frame: Value[], k: KV, inData = false): boolean {
    if (i === path.length) return k(v);
    const p = path[i];
    const get = (key: Value): Value | undefined => {
      const x = lookup(v, key);
      return x === undefined && inData && isNum(key) && v instanceof RObject ? v.get(valueToString(key)) : x;
    };
    if (p.t === 'scalar' || p.t === 'const') {
      const x = get(p.v);
      return x !== undefined && this.evalPath(x, path, i + 1, frame, k, inData);
    }
    if (this.hasUnbound(p, frame)) {
      return this.iterate(v, (key, val) => this.unifyValue(p, key, frame, () => this.evalPath(val, path, i + 1, frame, k, inData)));
    }
    return this.evalTerm(p, frame, (key) => {
      const x = get(key);
      return x !== undefined && this.evalPath(x, path, i + 1, frame, k, inData);
    });
  }

  /** data.<path>: rule tree merged with base data, honouring `with data...` overrides. */
  private evalData(node: RuleNode | undefined, base: Value | undefined, at: Value[], path: Term[], i: number, frame: Value[], k: KV): boolean {
    if (this.overrides.length) {
      for (const o of this.overrides) {
        if (o.path.length === at.length && isPrefix(o.path, at)) return this.evalPath(o.value, path, i, frame, k);
      }
    }
    if (!node) {
      if (this.overrides.length) {
        for (const o of this.overrides) if (o.path.length > at.length && isPrefix(at, o.path)) base = setPath(base, o.path.slice(at.length), o.value);
      }
      return base !== undefined && this.evalPath(base, path, i, frame, k, true);
    }
    if (node.kind === 'func') {
      if (node.arity !== 0) return false;
      const v = this.nodeValue(node, base, at);
      return v !== undefined && this.evalPath(v, path, i, frame, k);
    }
    if (node.hasRules()) {
      if (i < path.length && node.children.size === 0 && !this.overridesBelow(at)) {
        const p = path[i];
        if (node.kind === 'set' && !this.hasUnbound(p, frame)) {
          return this.evalTerm(p, frame, (key) => this.setHas(node, key) && this.evalPath(key, path, i + 1, frame, k));
        }
        if (node.kind === 'object' && !this.hasUnbound(p, frame) && this.cached(node) === undefined) {
          return this.evalTerm(p, frame, (key) => {
            const v = this.objectGet(node, key);
            return v !== undefined && this.evalPath(v, path, i + 1, frame, k);
          });
        }
      }
      const v = this.nodeValue(node, base, at);
      return v !== undefined && this.evalPath(v, path, i, frame, k);
    }
    if (i === path.length) {
      const v = this.nodeValue(node, base, at);
      return v !== undefined && k(v);
    }
    const p = path[i];
    const step = (key: Value): boolean => {
      if (isNum(key) && base instanceof RObject && !base.has(key)) key = valueToString(key);
      const child = typeof key === 'string' ? node.children.get(key) : undefined;
      const b = base === undefined ? undefined : lookup(base, key);
      if (!child && b === undefined && !this.overrides.length) return false;
      // the path walked so far only matters for `with data...` overrides
      return this.evalData(child, b, this.overrides.length ? [...at, key] : at, path, i + 1, frame, k);
    };
    if (p.t === 'scalar') return step(p.v);
    if (this.hasUnbound(p, frame)) {
      const keys = new Set<string>();
      const all: Value[] = [];
      for (const c of node.children.keys()) { keys.add(c); all.push(c); }
      if (base instanceof RObject) for (const bk of base.keys()) if (typeof bk !== 'string' || !keys.has(bk)) all.push(bk);
      all.sort(compare);
      for (const key of all) {
        const child = typeof key === 'string' ? node.children.get(key) : undefined;
        if (child && child.kind === 'func') continue;
        if (child && !child.hasRules() || !child) {
          // skip namespaces that hold nothing defined
        }
        const r = this.unifyValue(p, key, frame, () => step(key));
        if (r) return true;
      }
      return false;
    }
    return this.evalTerm(p, frame, step);
  }

  private overridesBelow(at: Value[]): boolean {
    return this.overrides.some((o) => o.path.length > at.length && isPrefix(at, o.path));
  }

  private cached(node: RuleNode): Cached | undefined {
    return node.memoScope === this.scope ? (node.memo as Cached) : undefined;
  }

  private setCached(node: RuleNode, v: Cached): void {
    node.memoScope = this.scope;
    node.memo = v;
  }

  /** Full value of the document at a node (cached per query and `with` context). */
  private nodeValue(node: RuleNode, base: Value | undefined, at: Value[]): Value | undefined {
    if (!this.overrides.length) {
      let c = this.cached(node);
      if (c === undefined && node.inputFree && !this.mocks.size && !this.opts.explain && !this.cov) {
        // the same in every query of this policy: computed once (explanations still see the rules evaluate)
        c = node.shared as Cached | undefined;
        if (c === undefined) {
          const v = this.computeNode(node, base);
          node.shared = c = v === undefined ? UNDEF : v;
        }
        this.setCached(node, c);
      }
      if (c !== undefined) return c === UNDEF ? undefined : c;
      const v = this.computeNode(node, base);
      this.setCached(node, v === undefined ? UNDEF : v);
      return v;
    }
    const below = this.overrides.filter((o) => o.path.length > at.length && isPrefix(at, o.path));
    let v: Value | undefined;
    const c = below.length ? undefined : this.cached(node);
    if (c !== undefined) v = c === UNDEF ? undefined : c;
    else {
      v = this.computeNode(node, base);
      if (!below.length) this.setCached(node, v === undefined ? UNDEF : v);
    }
    for (const o of below) v = setPath(v ?? new RObject(), o.path.slice(at.length), o.value);
    return v;
  }

  private computeNode(node: RuleNode, base: Value | undefined): Value | undefined {
    let own: Value | undefined;
    switch (node.kind) {
      case 'complete': own = this.completeValue(node); break;
      case 'set': own = this.fullSet(node); break;
      case 'object': own = this.fullObject(node); break;
      case 'func': {
        // a zero-argument function is also a value of its package document
        if (node.arity !== 0) return undefined;
        let v: Value | undefined;
        this.callUser(node, [], node.rules[0]?.loc ?? { file: '', row: 0, col: 0 }, (x) => { v = x; return true; });
        return v;
      }
    }
    if (node.children.size === 0 && node.kind) return own;
    if (node.kind && node.kind !== 'object' && own !== undefined) return own;
    // namespace: base data plus child documents
    const out = new RObject();
    if (base instanceof RObject) for (const [k, v] of base.entries()) out.set(k, v);
    if (own instanceof RObject) for (const [k, v] of own.entries()) out.set(k, v);
    for (const [name, child] of node.children) {
      if (child.kind === 'func' && child.arity !== 0) continue;
      const bv = base instanceof RObject ? base.get(name) : undefined;
      if (bv !== undefined && !(bv instanceof RObject)) continue;
      const cv = this.nodeValue(child, bv, [...node.path, name]);
      if (cv === undefined) continue;
      const prev = own instanceof RObject ? own.get(name) : undefined;
      const keyLevels = Math.max(0, ...node.rules.map((r) => r.keys.length)) - 1;
      out.set(name, prev === undefined ? cv : mergeDocs(prev, cv, (child.rules[0] ?? node.rules[0])?.loc, keyLevels));
    }
    if (node.kind === 'object' && own === undefined && out.size === 0) return undefined;
    return out;
  }

  // ---------- rules ----------

  private record(r: CRule): void {
    if (this.cov) this.cov.add(`${r.module.file}:${r.loc.row}`);
    if (!this.opts.explain) return;
    const key = `${r.module.file}:${r.loc.row}`;
    if (!this.explained.has(key)) this.explained.set(key, { rule: `data.${r.path.join('.')}`, location: key });
  }

  /** Evaluates a rule and its else chain; calls onValue per produced value. */
  private evalChain(rule: CRule, onValue: (v: Value, r: CRule) => boolean, args?: Value[]): void {
    for (let cur: CRule | undefined = rule; cur; cur = cur.else) if (this.evalLink(cur, onValue, args)) return;
  }

  /**
   * One rule of an else chain, on its own new frame: true when it produced a value. A body that the leading direct
   * expressions decide, with a direct value, makes no continuation (the common rule: a few tests and a value).
   */
  private evalLink(r: CRule, onValue: (v: Value, r: CRule) => boolean, args: Value[] | undefined): boolean {
    const frame = newFrame(r.nslots);
    this.ruleStack.push(r);
    try {
      let i = 0;
      if (args && !this.bindArgs(r.args!, args, frame)) i = -2;
      else {
        i = this.directPrefix(r.body, frame);
        if (i < 0) return false;
        if (i === r.body.length) {
          const v = this.direct(r.value, frame);
          if (v === undefined) return false;
          if (v !== NOT_DIRECT) {
            this.record(r);
            onValue(v, r);
            return true;
          }
        }
      }
      return this.evalLinkGeneral(r, onValue, args, frame, i);
    } finally {
      this.ruleStack.pop();
    }
  }

  /**
   * evalLink with continuations, from expression `i` on (-2: the parameters are patterns). Apart so that evalLink
   * itself captures nothing: V8 makes a function's closure context on every call when an inner closure captures
   * a parameter, whether or not the closure is made.
   */
  private evalLinkGeneral(r: CRule, onValue: (v: Value, r: CRule) => boolean, args: Value[] | undefined, frame: Value[], i: number): boolean {
    let found = false;
    const emit = (v: Value): boolean => { found = true; this.record(r); return onValue(v, r); };
    if (i === -2) this.unifyArgs(r.args!, args!, 0, frame, () => this.evalBody(r.body, 0, frame, () => this.evalTerm(r.value, frame, emit)));
    else if (i < r.body.length) this.evalBody(r.body, i, frame, () => this.evalTerm(r.value, frame, emit));
    else this.evalTerm(r.value, frame, emit);
    return found;
  }

  /**
   * Decides a term expression, or an assignment of a single-valued term to an unbound var, without a
   * continuation: STEP_FAIL (the body fails here), STEP_PASS (true, nothing bound), STEP_OTHER (evalExpr must take
   * it), or the slot it bound in `frame` (the caller unbinds it when its bindings must not outlive the branch).
   */
  private directStep(e: Expr, frame: Value[]): number {
    if (e.k === 'term') {
      const v = this.direct(e.term, frame);
      if (v === NOT_DIRECT) return STEP_OTHER;
      return (v !== undefined && v !== false) === e.negated ? STEP_FAIL : STEP_PASS;
    }
    if ((e.k !== 'assign' && e.k !== 'unify') || e.negated) return STEP_OTHER;
    const sa = unboundSlot(e.a, frame);
    const slot = sa ?? unboundSlot(e.b, frame);
    if (slot === undefined) return STEP_OTHER;
    const v = this.direct(sa !== undefined ? e.b : e.a, frame);
    if (v === NOT_DIRECT) return STEP_OTHER;
    if (v === undefined) return STEP_FAIL;
    frame[slot] = v;
    return slot;
  }

  /**
   * Solutions of a rule body evaluated on the rule's own new frame, each passed to `emit` with the value of
   * `value` (see directPrefix).
   */
  private runRule(body: Body, value: Term, frame: Value[], emit: KV): boolean {
    const i = this.directPrefix(body, frame);
    if (i < 0) return false;
    if (i < body.length) return this.evalBodyThenValue(body, i, value, frame, emit);
    const v = this.direct(value, frame);
    if (v === NOT_DIRECT) return this.evalTerm(value, frame, emit);
    return v !== undefined && emit(v);
  }

  /** The rest of a rule body, then its value term (apart from runRule for the reason given at evalLinkGeneral). */
  private evalBodyThenValue(body: Body, i: number, value: Term, frame: Value[], emit: KV): boolean {
    return this.evalBody(body, i, frame, () => this.evalTerm(value, frame, emit));
  }

  /**
   * Runs the leading expressions of a rule body that `direct` decides, in a loop that leaves its bindings in place
   * (the rule's frame is discarded afterwards): the index of the first expression evalBody must take (the body's
   * length when none is left), or -1 when the body fails.
   */
  private directPrefix(body: Body, frame: Value[]): number {
    let i = 0;
    for (; i < body.length; i++) {
      this.tick();
      const e = body[i];
      if (e.with.length) break;
      const step = this.directStep(e, frame);
      if (this.cov && step !== STEP_OTHER) this.covered(e);
      if (step === STEP_FAIL) return -1;
      if (step === STEP_OTHER) break;
    }
    return i;
  }

  /** Binds parameters that are all plain vars on the call's new frame; false when some parameter is a pattern. */
  private bindArgs(params: Term[], args: Value[], frame: Value[]): boolean {
    for (let i = 0; i < params.length; i++) {
      const slot = unboundSlot(params[i], frame);
      if (slot === undefined) return false;
      frame[slot] = args[i];
    }
    return true;
  }

  private unifyArgs(params: Term[], args: Value[], i: number, frame: Value[], k: K): boolean {
    if (i === params.length) return k();
    return this.unifyValue(params[i], args[i], frame, () => this.unifyArgs(params, args, i + 1, frame, k));
  }

  private completeValue(node: RuleNode): Value | undefined {
    let result: Value | undefined;
    let resultRule: CRule | undefined;
    const early = earlyExit(node);
    let stop = false;
    const onValue = (v: Value, r: CRule): boolean => {
      if (result !== undefined && !equal(result, v)) {
        throw RegoError.single('eval_conflict_error', `complete rules must not produce multiple outputs (rule data.${node.path.join('.')} produced conflicting values)`, (r ?? resultRule)?.loc);
      }
      result = v;
      resultRule = r;
      if (early || r.constValue) { stop = early; return true; }
      return false;
    };
    for (const rule of this.candidates(node)) {
      this.evalChain(rule, onValue);
      if (stop) break;
    }
    if (result === undefined && node.defaultRule) {
      result = this.defaultValue(node.defaultRule);
    }
    return result;
  }

  private fullSet(node: RuleNode): Value {
    const c = this.cached(node);
    if (c !== undefined && c !== UNDEF) return c;
    const out = new RSet();
    let rule: CRule;
    const emit = (v: Value): boolean => { this.record(rule); out.add(v); return false; };
    for (rule of this.candidates(node)) {
      this.ruleStack.push(rule);
      try {
        this.runRule(rule.body, rule.member!, newFrame(rule.nslots), emit);
      } finally { this.ruleStack.pop(); }
    }
    return out;
  }

  private setHas(node: RuleNode, key: Value): boolean {
    const c = this.cached(node);
    if (c instanceof RSet) return c.has(key);
    for (const rule of this.candidates(node)) {
      const frame = newFrame(rule.nslots);
      this.ruleStack.push(rule);
      let found = false;
      try {
        found = this.unifyValue(rule.member!, key, frame, () => this.evalBody(rule.body, 0, frame, () => this.evalTerm(rule.member!, frame, (v) => equal(v, key) && (this.record(rule), true))));
      } finally { this.ruleStack.pop(); }
      if (found) return true;
    }
    return false;
  }

  private fullObject(node: RuleNode): Value | undefined {
    const out = new RObject();
    let any = false;
    for (const rule of this.candidates(node)) {
      const frame = newFrame(rule.nslots);
      this.ruleStack.push(rule);
      try {
        this.evalBody(rule.body, 0, frame, () => this.evalList(rule.keys, 0, [], frame, (keys) => this.evalTerm(rule.value, frame, (v) => {
          this.record(rule);
          insertNested(out, keys, v, rule.loc, rule.multi);
          any = true;
          return false;
        })));
      } finally { this.ruleStack.pop(); }
    }
    if (!any && node.defaultRule) return this.defaultValue(node.defaultRule);
    return out;
  }

  private objectGet(node: RuleNode, key: Value): Value | undefined {
    let out: RObject | undefined;
    for (const rule of this.candidates(node)) {
      const frame = newFrame(rule.nslots);
      this.ruleStack.push(rule);
      try {
        this.unifyValue(rule.keys[0], key, frame, () => this.evalBody(rule.body, 0, frame, () => this.evalList(rule.keys, 0, [], frame, (keys) => this.evalTerm(rule.value, frame, (v) => {
          if (!equal(keys[0], key)) return false;
          this.record(rule);
          out ??= new RObject();
          insertNested(out, keys, v, rule.loc, rule.multi);
          return false;
        }))));
      } finally { this.ruleStack.pop(); }
    }
    return out?.get(key);
  }

  /** The rules of a node worth evaluating for the current input (see indexing.ts). */
  private candidates(node: RuleNode): CRule[] {
    if (node.index === undefined) node.index = buildIndex(node.rules) ?? null;
    const idx = node.index;
    if (!idx) return node.rules;
    const v = this.direct(idx.ref, EMPTY);
    if (v === NOT_DIRECT) return node.rules;
    return candidatesFor(idx, v);
  }

  private defaultValue(r: CRule): Value {
    this.record(r);
    const v = r.value;
    if (v.t === 'scalar' || v.t === 'const') return v.v;
    let out: Value = true;
    this.ruleStack.push(r);
    try { this.evalTerm(v, newFrame(r.nslots), (x) => { out = x; return true; }); } finally { this.ruleStack.pop(); }
    return out;
  }

  // ---------- calls ----------

  private evalCall(t: Term & { t: 'call' }, frame: Value[], k: KV): boolean {
    if (t.op === 'print') return this.evalPrint(t, frame, k);
    const args = t.args;
    // an argument that is a still-unbound var is bound by another argument (e.g. x == a[x]): evaluate it last
    const late = args.findIndex((a) => a.t === 'var' && a.slot !== undefined && frame[a.slot] === undefined);
    if (late >= 0) {
      const order = [...args.keys()].sort((x, y) => Number(args[x].t === 'var' && args[x].slot !== undefined && frame[args[x].slot!] === undefined) - Number(args[y].t === 'var' && args[y].slot !== undefined && frame[args[y].slot!] === undefined));
      const vals: Value[] = new Array(args.length);
      const step = (j: number): boolean => j === order.length
        ? this.callFunction(t.op, vals.slice(), t.loc, k)
        : this.evalTerm(args[order[j]], frame, (v) => { vals[order[j]] = v; return step(j + 1); });
      return step(0);
    }
    return this.evalList(args, 0, [], frame, (vals) => this.callFunction(t.op, vals, t.loc, k));
  }

  private evalPrint(t: Term & { t: 'call' }, frame: Value[], k: KV): boolean {
    const parts = t.args.map((a) => {
      const vals: Value[] = [];
      this.evalTerm(a, frame, (v) => { vals.push(v); return false; });
      if (vals.length === 0) return '<undefined>';
      return vals.map((v) => (typeof v === 'string' ? v : valueToString(v))).join(' ');
    });
    this.ctx.print(parts.join(' '));
    return k(true);
  }

  callFunction(name: string, args: Value[], loc: Location, k: KV): boolean {
    if (this.mocks.size) {
      const m = this.mocks.get(name);
      if (m) {
        if (m.kind === 'value') return k(m.v);
        // a replacement function runs without mocks: it reaches the originals, not other mocks
        const saved = this.mocks, savedScope = this.scope;
        let v: Value | undefined;
        this.mocks = new Map();
        this.scope = ++lastScope;
        try { this.callFunction(m.name, args, loc, (x) => { v = x; return true; }); } finally { this.mocks = saved; this.scope = savedScope; }
        return v !== undefined && k(v);
      }
    }
    if (name.startsWith('data.')) {
      const node = this.root.byName(name);
      if (!node || node.kind !== 'func') {
        if (node && node.hasRules() && args.length === 0) {
          const v = this.nodeValue(node, undefined, node.path);
          return v !== undefined && k(v);
        }
        throw RegoError.single('rego_type_error', `undefined function ${name}`, loc);
      }
      return this.callUser(node, args, loc, k);
    }
    if (name === 'rego.metadata.rule') return k(metadataRule(this.ruleStack[this.ruleStack.length - 1]));
    if (name === 'rego.metadata.chain') return k(metadataChain(this.ruleStack[this.ruleStack.length - 1]));
    const def = BUILTINS[name];
    if (!def) throw RegoError.single('rego_type_error', `undefined function ${name}`, loc);
    const v = this.callBuiltin(def, args, loc);
    if (v === undefined) return false;
    if (def.relation && Array.isArray(v)) {
      for (const x of v) if (k(x)) return true;
      return false;
    }
    return k(v);
  }

  private callUser(node: RuleNode, args: Value[], loc: Location, k: KV): boolean {
    const v = this.userValue(node, args, loc);
    return v !== undefined && k(v);
  }

  /** A user function's value for the arguments (functions have at most one value per arguments). */
  private userValue(node: RuleNode, args: Value[], loc: Location): Value | undefined {
    if (args.length !== node.arity) throw RegoError.single('rego_type_error', `data.${node.path.join('.')}: arity mismatch`, loc);
    const memoKey = scalarArgsKey(args);
    let memo: Map<unknown, Cached> | undefined;
    if (memoKey !== undefined) {
      if (node.callsScope !== this.scope) { node.callsScope = this.scope; node.calls = new Map(); }
      memo = node.calls as Map<unknown, Cached>;
      const hit = memo.get(memoKey);
      if (hit !== undefined) return hit === UNDEF ? undefined : hit;
    }
    const result = this.callUserUncached(node, args);
    memo?.set(memoKey, result === undefined ? UNDEF : result);
    return result;
  }

  private callUserUncached(node: RuleNode, args: Value[]): Value | undefined {
    let result: Value | undefined;
    const onValue = (v: Value, r: CRule): boolean => {
      if (result !== undefined && !equal(result, v)) {
        throw RegoError.single('eval_conflict_error', `functions must not produce multiple outputs for same inputs (function data.${node.path.join('.')} produced conflicting values for the same inputs)`, r.loc);
      }
      result = v;
      return r.constValue;
    };
    // as for complete rules: when every rule has the same constant value, the first that succeeds decides
    const early = earlyExit(node);
    for (const rule of this.candidates(node)) {
      this.evalChain(rule, onValue, args);
      if (early && result !== undefined) break;
    }
    if (result === undefined && node.defaultRule) result = this.defaultValue(node.defaultRule);
    return result;
  }

  private callBuiltin(def: BuiltinDef, args: Value[], loc: Location, specs = kindsOf(def)): Value | undefined {
    for (let i = 0; i < args.length; i++) {
      const mask = i < specs.masks.length ? specs.masks[i] : specs.variadicMask;
      if (mask === 0 || (mask & kindBit(args[i])) !== 0) continue;
      // like OPA, runtime type errors of builtins are errors only under strict builtin errors
      if (!this.opts.strict) return undefined;
      const kinds = (i < specs.args.length ? specs.args[i] : specs.variadic)!;
      throw RegoError.single('eval_type_error', `${def.name}: operand ${i + 1} must be ${describeKinds(kinds)} but got ${typeName(args[i])}`, loc);
    }
    try {
      return def.fn(args, this.ctx);
    } catch (e) {
      if (e instanceof RegoError) throw e;
      if (e instanceof RangeError && /call stack/.test(e.message)) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      if (!this.opts.strict) return undefined;
      throw RegoError.single(e instanceof OperandTypeError ? 'eval_type_error' : 'eval_builtin_error', `${def.name}: ${msg}`, loc);
    }
  }
}

/** Top-level kinds each argument admits (undefined = any), computed once per builtin. */
const KINDS = new WeakMap<BuiltinDef, ArgKinds>();
/** Top-level kinds each argument admits, also as masks of `kindBit`s (0: any), computed once per builtin. */
/** Whether every rule of a node has one and the same constant value and no else (OPA's early exit). */
function earlyExit(node: RuleNode): boolean {
  return node.earlyExit ??= sameConstValues(node.rules);
}

/** (Apart from earlyExit, which then captures nothing: see evalLinkGeneral.) */
function sameConstValues(rules: CRule[]): boolean {
  return rules.every((r) => r.constValue && !r.else) && rules.every((r) => equal(constOf(r), constOf(rules[0])));
}

function kindsOf(def: BuiltinDef): ArgKinds {
  let k = KINDS.get(def);
  if (!k) {
    const conv = (spec: string | undefined) => { if (spec === undefined) return undefined; const ks = specKinds(spec); return ks.includes('any') ? undefined : ks; };
    const mask = (ks: string[] | undefined) => (ks ? ks.reduce((m, n) => m | (KIND_BITS[n] ?? 0), 0) : 0);
    const args = def.args.map(conv), variadic = conv(def.variadic);
    k = { args, variadic, masks: args.map(mask), variadicMask: mask(variadic) };
    KINDS.set(def, k);
  }
  return k;
}

const KIND_BITS: Record<string, number> = { null: 1, boolean: 2, number: 4, string: 8, array: 16, object: 32, set: 64 };

/** typeName(v) as one bit of KIND_BITS. */
function kindBit(v: Value): number {
  if (typeof v === 'string') return 8;
  if (typeof v === 'number' || typeof v === 'bigint') return 4;
  if (typeof v === 'boolean') return 2;
  if (v === null) return 1;
  if (Array.isArray(v)) return 16;
  if (v instanceof RObject) return 32;
  if (v instanceof RSet) return 64;
  return 4; // BigDec
}

/** A rule's frame of slots; rules without variables (the commonest) share one empty frame, never written. */
function newFrame(nslots: number): Value[] {
  return nslots === 0 ? EMPTY : new Array(nslots);
}

/** Slot of a term that is a var not bound yet. */
function unboundSlot(t: Term, frame: Value[]): number | undefined {
  return t.t === 'var' && t.slot !== undefined && frame[t.slot] === undefined ? t.slot : undefined;
}

/** Two object-key terms that denote the same key (constants, or vars bound to equal values). */
function sameKey(a: Term, b: Term, frame: Value[]): boolean {
  const v = (t: Term): Value | undefined => (t.t === 'scalar' || t.t === 'const' ? t.v : t.t === 'var' && t.slot !== undefined ? frame[t.slot] : undefined);
  const x = v(a), y = v(b);
  return x !== undefined && y !== undefined && equal(x, y);
}

/**
 * Memo key (within one function's memo) for a call whose arguments are all scalars (cheap to key), else
 * undefined: a single argument keys itself, several a text of them all.
 */
function scalarArgsKey(args: Value[]): unknown {
  if (args.length === 1) {
    const a = args[0];
    const t = typeof a;
    if (t === 'string' || t === 'boolean' || t === 'bigint' || a === null) return a;
    if (t === 'number') return a === 0 ? 0 : a; // -0 and 0 are one key
    return undefined;
  }
  let key = '';
  for (const a of args) {
    const t = typeof a;
    if (t === 'string') key += `|s${(a as string).length}:${a as string}`;
    else if (t === 'number' || t === 'bigint') key += `|n${String(a)}`;
    else if (t === 'boolean') key += `|b${a ? 1 : 0}`;
    else if (a === null) key += '|z';
    else return undefined;
  }
  return key;
}

/** Value of a rule whose head value is a constant (callers check `constValue`). */
function constOf(r: CRule): Value {
  const v = r.value;
  return v.t === 'scalar' || v.t === 'const' ? v.v : true;
}

export function lookup(v: Value, key: Value): Value | undefined {
  if (Array.isArray(v)) {
    if (!isNum(key)) return undefined;
    const i = toSafeInt(key);
    return i !== undefined && i >= 0 && i < v.length ? v[i] : undefined;
  }
  if (v instanceof RObject) return v.get(key);
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  return undefined;
}

function isPrefix(prefix: Value[], path: Value[]): boolean {
  if (prefix.length > path.length) return false;
  for (let i = 0; i < prefix.length; i++) if (!equal(prefix[i], path[i])) return false;
  return true;
}

/** Copy of `v` with `path` set to `x` (objects created along the way). */
function setPath(v: Value | undefined, path: Value[], x: Value): Value {
  if (path.length === 0) return x;
  const o = new RObject();
  if (v instanceof RObject) for (const [k, val] of v.entries()) o.set(k, val);
  o.set(path[0], setPath(v instanceof RObject ? v.get(path[0]) : undefined, path.slice(1), x));
  return o;
}

function insertNested(out: RObject, keys: Value[], v: Value, loc: Location, multi = false): void {
  let o = out;
  for (let i = 0; i < keys.length - 1; i++) {
    let next = o.get(keys[i]);
    if (!(next instanceof RObject)) {
      if (next !== undefined) throw RegoError.single('eval_conflict_error', 'object keys must be unique', loc);
      next = new RObject();
      o.set(keys[i], next);
    }
    o = next;
  }
  const last = keys[keys.length - 1];
  const prev = o.get(last);
  if (multi) {
    if (prev !== undefined && !(prev instanceof RSet)) throw RegoError.single('eval_conflict_error', 'object keys must be unique', loc);
    const set = prev ?? new RSet();
    if (!prev) o.set(last, set);
    set.add(v);
    return;
  }
  if (prev !== undefined && !equal(prev, v)) throw RegoError.single('eval_conflict_error', 'object keys must be unique', loc);
  o.set(last, v);
}

/** Merges a child document into a parent object rule's value at the same key. */
function mergeDocs(a: Value, b: Value, loc: Location | undefined, keyLevels: number): Value {
  if (a instanceof RSet && b instanceof RSet) return makeSet([...a.unsortedValues(), ...b.unsortedValues()]);
  // objects merge only along rule-key levels, never inside a value another rule produced
  if (a instanceof RObject && b instanceof RObject && keyLevels > 0) {
    const out = new RObject();
    for (const [k, v] of a.unsortedEntries()) out.set(k, v);
    for (const [k, v] of b.unsortedEntries()) { const p = out.get(k); out.set(k, p === undefined ? v : mergeDocs(p, v, loc, keyLevels - 1)); }
    return out;
  }
  if (equal(a, b)) return a;
  throw RegoError.single('eval_conflict_error', 'object keys must be unique', loc);
}

