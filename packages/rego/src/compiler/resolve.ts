/**
 * Name resolution (OPA's resolveAllRefs and local-variable rewriting): locals become frame slots, rule names and
 * import aliases become data refs, calls resolve to a builtin or `data.x.f`; closures (comprehensions, every)
 * record the outer slots they read. Builtin arity and constant-argument kinds are checked here.
 */
import type { Body, Expr, Term } from '../ast.js';
import { BUILTINS } from '../builtins/index.js';
import type { RegoErrorDetail } from '../errors.js';
import { refText } from '../parser.js';
import { rewriteNegatedDynamics } from './dynamics.js';
import { err } from './errors.js';
import { foldConst } from './ground.js';
import { evalVars, orderBody, patternVars } from './safety.js';
import { checkEveryUsed, checkSomeUsed } from './unused.js';
import { FREE, visitBody, visitTerm, type Closure } from './visit.js';

export interface Scope {
  parent?: Scope;
  vars: Map<string, number>;
  /** expression index declaring a `:=`/`some` var; closures before it do not see it */
  declAt?: Map<string, number>;
  /** index of the expression being resolved */
  cursor?: number;
  /** shared slot counter for the whole frame */
  alloc: { n: number };
}

export interface Globals {
  /** arity of every user function, by `data.x.f` */
  funcs: Map<string, number>;
  pkg: string[];
  ruleRoots: Set<string>;
  imports: Map<string, Term>;
  /** import names the module's rules refer to (for strict mode's unused-import check) */
  usedImports?: Set<string>;
  /** v1 module (or `import rego.v1`): OPA's v1 checks apply (no deprecated builtins, no shadowing input/data) */
  v1: boolean;
}

/** Builtins OPA deprecated: still callable from v0 modules, a type error in v1 ones. */
export const DEPRECATED_BUILTINS = new Set(['any', 'all', 're_match', 'set_diff', 'net.cidr_overlap', 'cast_array', 'cast_set', 'cast_string', 'cast_boolean', 'cast_null', 'cast_object']);
export const ROOT_DOCUMENTS = new Set(['input', 'data']);


export function collectPatternNames(t: Term, out: Set<string>): void {
  if (t.t === 'var') out.add(t.name);
  else if (t.t === 'array') t.items.forEach((x) => collectPatternNames(x, out));
  else if (t.t === 'object') t.items.forEach(([, v]) => collectPatternNames(v, out));
}


export class Resolver {
  private names = new Map<number, string>();
  constructor(private g: Globals, private errors: RegoErrorDetail[]) {}

  nameOf(slot: number): string {
    return this.names.get(slot) ?? `$${slot}`;
  }

  private newSlot(scope: Scope, name: string): number {
    const s = scope.alloc.n++;
    this.names.set(s, name);
    return s;
  }

  private lookup(scope: Scope | undefined, name: string): number | undefined {
    for (let s = scope, inner = true; s; s = s.parent, inner = false) {
      const v = s.vars.get(name);
      if (v === undefined) continue;
      const at = s.declAt?.get(name);
      if (!inner && at !== undefined && s.cursor !== undefined && at >= s.cursor) continue;
      return v;
    }
    return undefined;
  }

  private isGlobal(name: string): boolean {
    return name === 'data' || name === 'input' || this.g.imports.has(name) || this.g.ruleRoots.has(name);
  }

  /** Declares the vars a body (and head terms) use directly, before resolving nested closures. */
  declareBody(body: Body, scope: Scope, extra: Term[], forced: Set<string>): void {
    const direct = new Set<string>();
    const decl = new Set<string>(forced);
    const declAt = new Map<string, number>();
    const assigned = new Set<string>();
    const someDeclared = new Set<string>();
    const dv = (t: Term) => directVars(t, direct);
    const declare = (t: Term, i: number) => {
      const names = new Set<string>();
      collectPatternNames(t, names);
      for (const n of names) { decl.add(n); if (!declAt.has(n)) declAt.set(n, i); }
    };
    for (const t of extra) dv(t);
    body.forEach((e, i) => {
      switch (e.k) {
        case 'term': dv(e.term); break;
        case 'unify': dv(e.a); dv(e.b); break;
        case 'assign': {
          dv(e.a); dv(e.b);
          const names = new Set<string>();
          collectPatternNames(e.a, names);
          for (const n of names) {
            if (this.g.v1 && e.a.t === 'var' && ROOT_DOCUMENTS.has(n)) this.errors.push(err('rego_compile_error', `variables must not shadow ${n} (use a different variable name)`, e.loc));
            if (n !== '_' && (assigned.has(n) || forced.has(n))) this.errors.push(err('rego_compile_error', `var ${n} assigned above`, e.loc));
            else if (n !== '_' && someDeclared.has(n)) this.errors.push(err('rego_compile_error', `var ${n} declared above`, e.loc));
            assigned.add(n);
          }
          declare(e.a, i);
          break;
        }
        case 'some': for (const v of e.vars) { declare(v, i); if (v.t === 'var') someDeclared.add(v.name); } break;
        case 'somein': if (e.key) { dv(e.key); declare(e.key, i); } dv(e.value); declare(e.value, i); dv(e.coll); break;
        case 'every': dv(e.coll); break;
      }
      for (const w of e.with) { const tx = refText(w.value); if (!(tx && BUILTINS[tx])) dv(w.value); }
    });
    scope.declAt = declAt;
    for (const n of decl) if (n !== '_' && !scope.vars.has(n)) scope.vars.set(n, this.newSlot(scope, n));
    for (const n of direct) {
      if (n === '_' || scope.vars.has(n)) continue;
      if (this.lookup(scope.parent, n) !== undefined) continue;
      if (this.isGlobal(n)) continue;
      scope.vars.set(n, this.newSlot(scope, n));
    }
  }

  body(body: Body, scope: Scope): Body {
    const out = body.map((e, i) => { scope.cursor = i; return this.expr(e, scope); });
    scope.cursor = undefined;
    return out;
  }

  private expr(e: Expr, scope: Scope): Expr {
    const base = { negated: e.negated, loc: e.loc, with: e.with.map((w) => ({ ...w, target: this.withTarget(w.target), value: this.withValue(w.value, scope) })) };
    switch (e.k) {
      case 'term': {
        const t = e.term;
        if (t.t === 'call') {
          const arity = this.arity(t.op);
          if (arity !== undefined && t.args.length === arity + 1 && t.op !== 'print') {
            // output argument: f(x, y) ≡ y = f(x)
            const out = this.term(t.args[arity], scope);
            const call = this.term({ ...t, args: t.args.slice(0, arity) }, scope);
            return { ...base, k: 'unify', a: out, b: call, callOut: true };
          }
        }
        return { ...base, k: 'term', term: this.term(t, scope) };
      }
      case 'unify': return { ...base, k: 'unify', a: this.term(e.a, scope), b: this.term(e.b, scope) };
      case 'assign': return { ...base, k: 'assign', a: this.term(e.a, scope), b: this.term(e.b, scope) };
      case 'some': return { ...base, k: 'some', vars: e.vars.map((v) => this.term(v, scope)) };
      case 'somein': {
        // the collection is read before the vars this expression declares exist (`some v in v` reads an outer v)
        const own = new Set<string>();
        if (e.key) collectPatternNames(e.key, own);
        collectPatternNames(e.value, own);
        const hidden = [...own].filter((n) => scope.declAt?.get(n) === scope.cursor && scope.vars.has(n)).map((n) => [n, scope.vars.get(n)!] as const);
        for (const [n] of hidden) scope.vars.delete(n);
        const coll = this.term(e.coll, scope);
        for (const [n, slot] of hidden) scope.vars.set(n, slot);
        return { ...base, k: 'somein', key: e.key && this.term(e.key, scope), value: this.term(e.value, scope), coll };
      }
      case 'every': {
        const start = scope.alloc.n;
        const inner: Scope = { parent: scope, vars: new Map(), alloc: scope.alloc };
        const forced = new Set<string>();
        if (e.key) collectPatternNames(e.key, forced);
        collectPatternNames(e.value, forced);
        this.declareBody(e.body, inner, [], forced);
        const key = e.key && this.term(e.key, inner);
        const value = this.term(e.value, inner);
        const body = this.body(e.body, inner);
        const coll = this.term(e.coll, scope);
        const bound = new Set<number>();
        if (key) patternVars(key, bound);
        patternVars(value, bound);
        const free = freeSlots(start, [key, value].filter(Boolean) as Term[], body);
        for (const f of free) bound.add(f);
        const ordered = rewriteNegatedDynamics(orderBody(body, bound, this.errors), inner.alloc);
        const r = { ...base, k: 'every' as const, key, value, coll, body: ordered };
        checkEveryUsed(r, this.errors);
        checkSomeUsed(body, [key, value].filter(Boolean) as Term[], this.errors);
        (r as unknown as Closure)[FREE] = free;
        return r;
      }
    }
  }

  /** A `with` value naming a builtin (e.g. `with count as sum`) stays a name, not a local var. */
  private withValue(t: Term, scope: Scope): Term {
    const text = refText(t);
    if (text && BUILTINS[text] && this.lookup(scope, text.split('.')[0]) === undefined && !this.isGlobal(text.split('.')[0])) {
      return { t: 'var', name: text, loc: t.loc };
    }
    return this.term(t, scope);
  }

  private withTarget(t: Term): Term {
    const text = refText(t);
    if (!text) return t;
    const segs = text.split('.');
    if (segs[0] === 'input' || segs[0] === 'data') return t;
    const resolved = this.resolveCallName(text);
    if (resolved.startsWith('data.') && !this.g.funcs.has(resolved)) {
      // a rule (or an import of data) replaced by value: a data override
      const path = resolved.split('.').slice(1).map((v) => ({ t: 'scalar' as const, v, loc: t.loc }));
      return { t: 'ref', head: { t: 'var', name: 'data', loc: t.loc }, path, loc: t.loc };
    }
    if (!resolved.startsWith('data.') && !BUILTINS[resolved]) {
      this.errors.push(err('rego_compile_error', `with keyword target must reference existing input, data, or a function: ${text}`, t.loc));
    }
    return { t: 'scalar', v: resolved, loc: t.loc };
  }

  /** Resolves a call target to `data.x.y.f` or a builtin name. */
  resolveCallName(op: string): string {
    const segs = op.split('.');
    const imp = this.g.imports.get(segs[0]);
    if (imp) {
      this.g.usedImports?.add(segs[0]);
      const text = refText(imp);
      if (text) return [text, ...segs.slice(1)].join('.');
    }
    if (this.g.ruleRoots.has(segs[0])) return ['data', ...this.g.pkg, ...segs].join('.');
    return op;
  }

  private arity(op: string): number | undefined {
    const name = this.resolveCallName(op);
    const b = BUILTINS[name];
    if (b) return b.variadic !== undefined ? undefined : b.args.length;
    return this.g.funcs.get(name);
  }

  term(t: Term, scope: Scope): Term {
    switch (t.t) {
      case 'scalar': case 'const': return t;
      case 'var': {
        if (t.name === '_') return { ...t, slot: this.newSlot(scope, '_') };
        const s = this.lookup(scope, t.name);
        if (s !== undefined) return { ...t, slot: s };
        if (t.name === 'data' || t.name === 'input') return t;
        const imp = this.g.imports.get(t.name);
        if (imp) {
          this.g.usedImports?.add(t.name);
          return imp.t === 'var' ? imp : { ...imp, loc: t.loc };
        }
        if (this.g.ruleRoots.has(t.name)) {
          return { t: 'ref', head: { t: 'var', name: 'data', loc: t.loc }, path: [...this.g.pkg, t.name].map((v) => ({ t: 'scalar' as const, v, loc: t.loc })), loc: t.loc };
        }
        // a name first seen here (e.g. inside a nested expression): a fresh local of this scope
        const slot = this.newSlot(scope, t.name);
        scope.vars.set(t.name, slot);
        return { ...t, slot };
      }
      case 'ref': {
        const head = this.term(t.head, scope);
        const path = t.path.map((p) => this.term(p, scope));
        if (head.t === 'ref') return { t: 'ref', head: head.head, path: [...head.path, ...path], loc: t.loc };
        return { t: 'ref', head, path, loc: t.loc };
      }
      case 'array': return foldConst({ ...t, items: t.items.map((x) => this.term(x, scope)) });
      case 'set': return foldConst({ ...t, items: t.items.map((x) => this.term(x, scope)) });
      case 'object': return foldConst({ ...t, items: t.items.map(([k, v]) => [this.term(k, scope), this.term(v, scope)] as [Term, Term]) });
      case 'call': {
        const op = this.resolveCallName(t.op);
        if (!op.startsWith('data.') && !BUILTINS[op]) {
          this.errors.push(err('rego_type_error', `undefined function ${t.op}`, t.loc));
        } else if (this.g.v1 && DEPRECATED_BUILTINS.has(op)) {
          this.errors.push(err('rego_type_error', `deprecated built-in function calls in expression: ${op}`, t.loc));
        } else if (!op.startsWith('data.')) {
          const b = BUILTINS[op];
          if (b.variadic === undefined && t.args.length !== b.args.length) {
            this.errors.push(err('rego_type_error', `${t.op}: arity mismatch\n\thave: (${t.args.map(() => 'any').join(', ')})\n\twant: (${b.args.join(', ')})`, t.loc));
          }
        }
        const builtin = op === 'print' || op.startsWith('rego.metadata.') ? undefined : BUILTINS[op];
        return { t: 'call', op, args: t.args.map((a) => this.term(a, scope)), loc: t.loc, builtin };
      }
      case 'template': return { ...t, parts: t.parts.map((p) => (typeof p === 'string' ? p : this.term(p, scope))) };
      case 'withterm': return { ...t, term: this.term(t.term, scope), with: t.with.map((w) => ({ ...w, target: this.withTarget(w.target), value: this.withValue(w.value, scope) })) };
      case 'arraycomp': case 'setcomp': case 'objcomp': {
        const start = scope.alloc.n;
        const inner: Scope = { parent: scope, vars: new Map(), alloc: scope.alloc };
        const heads = t.t === 'objcomp' ? [t.key, t.value] : [t.head];
        this.declareBody(t.body, inner, heads, new Set());
        const rh = heads.map((h) => this.term(h, inner));
        const body = this.body(t.body, inner);
        checkSomeUsed(body, rh, this.errors);
        const free = freeSlots(start, rh, body);
        const bound = new Set<number>(free);
        const ordered = rewriteNegatedDynamics(orderBody(body, bound, this.errors), inner.alloc);
        const hv = new Set<number>();
        rh.forEach((h) => evalVars(h, hv));
        for (const s of hv) if (!bound.has(s)) { this.errors.push(err('rego_unsafe_var_error', `var ${this.nameOf(s)} is unsafe`, t.loc)); break; }
        const r: Closure = t.t === 'objcomp'
          ? { t: 'objcomp', key: rh[0], value: rh[1], body: ordered, loc: t.loc }
          : { t: t.t, head: rh[0], body: ordered, loc: t.loc };
        r[FREE] = free;
        return r;
      }
    }
  }
}

/** Vars a term uses outside nested closures. */
function directVars(t: Term, out: Set<string>): void {
  switch (t.t) {
    case 'var': out.add(t.name); break;
    case 'ref': directVars(t.head, out); t.path.forEach((p) => directVars(p, out)); break;
    case 'array': case 'set': t.items.forEach((p) => directVars(p, out)); break;
    case 'object': t.items.forEach(([k, v]) => { directVars(k, out); directVars(v, out); }); break;
    case 'call': t.args.forEach((p) => directVars(p, out)); break;
    case 'template': t.parts.forEach((p) => typeof p !== 'string' && directVars(p, out)); break;
    case 'withterm': directVars(t.term, out); t.with.forEach((w) => directVars(w.value, out)); break;
  }
}

/** Slots used inside a closure that belong to enclosing scopes (allocated before the closure's first slot). */
function freeSlots(start: number, heads: Term[], body: Body): number[] {
  const used = new Set<number>();
  const f = (t: Term) => { if (t.t === 'var' && t.slot !== undefined && t.slot < start) used.add(t.slot); };
  heads.forEach((h) => visitTerm(h, f));
  visitBody(body, f);
  return [...used];
}

