/**
 * Compiler: builds the rule tree, resolves names (locals → frame slots, rule names and import
 * aliases → data refs), orders body expressions for safety, and checks arity, unsafe variables,
 * conflicting rule kinds and recursion — each error with file:row:col.
 */
import type { Annotations, Body, Expr, Module, Rule, Term, With } from './ast.js';
import { BUILTINS } from './builtins/index.js';
import { RegoError, type Location, type RegoErrorDetail } from './errors.js';
import type { RuleIndex } from './indexing.js';
import { refText } from './parser.js';
import { specKinds } from './builtins/registry.js';
import { isHostBuiltin } from './host-builtins.js';
import { equal, makeObject, makeSet, typeName, type Value } from './value.js';

export type RuleKind = 'complete' | 'set' | 'object' | 'func';

export interface CRule {
  kind: RuleKind;
  /** ground path from data root, e.g. ['pkg', 'p'] */
  path: string[];
  /** dynamic key terms of an object rule beyond the ground prefix */
  keys: Term[];
  /** set member (kind 'set') */
  member?: Term;
  /** object rule whose leaves are sets (`p[q] contains r`): `value` is the member */
  multi?: boolean;
  value: Term;
  args?: Term[];
  body: Body;
  nslots: number;
  isDefault: boolean;
  else?: CRule;
  loc: Location;
  /** value is a constant: first success decides (early exit) */
  constValue: boolean;
  annotations?: Annotations;
  /** document-scope annotation of any rule at the same path */
  docAnnotation?: Annotations;
  /** package (and ancestor `subpackages`) annotations, nearest first */
  pkgAnnotations: { path: string[]; a: Annotations }[];
  module: Module;
}

export class RuleNode {
  readonly children = new Map<string, RuleNode>();
  readonly rules: CRule[] = [];
  defaultRule?: CRule;
  kind?: RuleKind;
  arity?: number;
  /** complete rules whose values are one constant: the first success decides (set lazily) */
  earlyExit?: boolean;
  /** rule index (built on first evaluation; null when the rules do not index) */
  index?: RuleIndex | null;
  /** the evaluator's memo of this node's value, valid in the evaluation scope numbered memoScope (see eval.ts) */
  memoScope = 0;
  memo: unknown = undefined;
  /** the evaluator's memo of this function's results, by scalar arguments, valid in scope callsScope */
  callsScope = 0;
  calls: Map<unknown, unknown> | undefined = undefined;
  /**
   * The rules read neither input nor anything that varies between queries (see markInputFree): with no `with`
   * in force their value is the same in every query of the compiled policy, so the evaluator keeps it in
   * `shared` once computed.
   */
  inputFree = false;
  shared: unknown = undefined;
  constructor(readonly path: string[]) {}

  child(seg: string): RuleNode {
    let c = this.children.get(seg);
    if (!c) { c = new RuleNode([...this.path, seg]); this.children.set(seg, c); }
    return c;
  }
  /** node at a ground path, if any */
  find(path: readonly string[]): RuleNode | undefined {
    let n: RuleNode | undefined = this;
    for (const s of path) { n = n.children.get(s); if (!n) return undefined; }
    return n;
  }
  /** node of a call target `data.a.b.f`, resolved once per name (calls name their target by text) */
  byName(name: string): RuleNode | undefined {
    const names = (this.names ??= new Map());
    let n = names.get(name);
    if (n === undefined) {
      n = name.startsWith('data.') ? this.find(name.split('.').slice(1)) ?? null : null;
      names.set(name, n);
    }
    return n ?? undefined;
  }
  private names?: Map<string, RuleNode | null>;
  hasRules(): boolean {
    return this.rules.length > 0 || this.defaultRule !== undefined;
  }
}

const err = (code: string, message: string, location?: Location): RegoErrorDetail => ({ code, message, location });

interface Scope {
  parent?: Scope;
  vars: Map<string, number>;
  /** expression index declaring a `:=`/`some` var; closures before it do not see it */
  declAt?: Map<string, number>;
  /** index of the expression being resolved */
  cursor?: number;
  /** shared slot counter for the whole frame */
  alloc: { n: number };
}

interface Globals {
  /** arity of every user function, by `data.x.f` */
  funcs: Map<string, number>;
  pkg: string[];
  ruleRoots: Set<string>;
  imports: Map<string, Term>;
  /** v1 module (or `import rego.v1`): OPA's v1 checks apply (no deprecated builtins, no shadowing input/data) */
  v1: boolean;
}

/** Builtins OPA deprecated: still callable from v0 modules, a type error in v1 ones. */
const DEPRECATED_BUILTINS = new Set(['any', 'all', 're_match', 'set_diff', 'net.cidr_overlap', 'cast_array', 'cast_set', 'cast_string', 'cast_boolean', 'cast_null', 'cast_object']);
const ROOT_DOCUMENTS = new Set(['input', 'data']);

/** Tag on closures (comprehensions, every): outer slots they read. */
export const FREE = Symbol('free');
type Closure = Term & { [FREE]?: number[] };

export class Compiler {
  readonly root = new RuleNode([]);
  readonly errors: RegoErrorDetail[] = [];
  private allRules: CRule[] = [];
  readonly funcs = new Map<string, number>();

  constructor(readonly modules: Module[]) {}

  compile(): void {
    const byPkg = new Map<string, Set<string>>();
    for (const m of this.modules) {
      const k = m.package.join('.');
      if (!byPkg.has(k)) byPkg.set(k, new Set());
      for (const r of m.rules) {
        const n = r.head.ref[0];
        if (n.t === 'scalar') byPkg.get(k)!.add(n.v as string);
      }
    }
    const funcs = this.funcs;
    for (const m of this.modules) {
      for (const r of m.rules) {
        if (!r.head.args) continue;
        const segs = r.head.ref.map((t) => (t.t === 'scalar' ? String(t.v) : '?'));
        funcs.set([...m.package, ...segs].join('.'), r.head.args.length);
      }
      this.nodeAt(m.package.slice(1));
    }
    for (const m of this.modules) {
      const g: Globals = { funcs, pkg: m.package.slice(1), ruleRoots: byPkg.get(m.package.join('.'))!, imports: new Map(), v1: m.regoV1 };
      for (const imp of m.imports) {
        const text = refText(imp.path);
        if (!text || text.startsWith('future.') || text === 'future' || text === 'rego.v1') continue;
        const segs = imp.path.t === 'ref' ? imp.path.path : [];
        const last = segs.length ? segs[segs.length - 1] : undefined;
        const alias = imp.alias ?? (last && last.t === 'scalar' ? String(last.v) : text);
        // duplicate import names are an error in v1 (strict); in v0 the later import wins, as in OPA
        if (g.imports.has(alias) && m.regoV1) this.errors.push(err('rego_compile_error', `import must not shadow import ${alias}`, imp.loc));
        g.imports.set(alias, imp.path);
      }
      const pkgAnn = pkgAnnotations(this.modules, m.package);
      for (const r of m.rules) {
        const name = r.head.ref[0];
        if (m.regoV1 && name.t === 'scalar' && ROOT_DOCUMENTS.has(name.v as string)) {
          this.errors.push(err('rego_compile_error', `rules must not shadow ${name.v} (use a different rule name)`, r.loc));
          continue;
        }
        try {
          this.addRule(r, g, pkgAnn);
        } catch (e) {
          if (e instanceof RegoError) this.errors.push(...e.errors);
          else throw e;
        }
      }
    }
    this.linkDocAnnotations(this.root);
    this.checkKinds(this.root);
    if (this.errors.length === 0) {
      const { nodes, deps } = this.ruleDeps();
      this.checkRecursion(nodes, deps);
      if (this.errors.length === 0) markInputFree(nodes, deps);
    }
    if (this.errors.length) throw new RegoError(this.errors.slice(0, 10));
  }

  private addRule(r: Rule, g: Globals, pkgAnn: CRule['pkgAnnotations']): void {
    const c = this.compileRule(r, g, pkgAnn);
    const node = this.root.find(c.path) ?? this.nodeAt(c.path);
    if (c.isDefault) {
      if (node.defaultRule) this.errors.push(err('rego_type_error', `multiple default rules ${['data', ...c.path].join('.')} found`, c.loc));
      node.defaultRule = c;
    } else {
      node.rules.push(c);
    }
    const kind = c.kind;
    if (node.kind && node.kind !== kind && !(c.isDefault && node.kind !== 'set')) {
      this.errors.push(err('rego_type_error', `conflicting rules ${['data', ...c.path].join('.')} found`, c.loc));
    }
    if (!node.kind || !c.isDefault) node.kind = kind;
    if (kind === 'func') {
      if (node.arity !== undefined && node.arity !== c.args!.length) {
        this.errors.push(err('rego_type_error', `conflicting rules ${['data', ...c.path].join('.')} found`, c.loc));
      }
      node.arity = c.args!.length;
    }
    this.allRules.push(c);
  }

  private nodeAt(path: string[]): RuleNode {
    let n = this.root;
    for (const s of path) n = n.child(s);
    return n;
  }

  private compileRule(r: Rule, g: Globals, pkgAnn: CRule['pkgAnnotations']): CRule {
    const h = r.head;
    const path = [...g.pkg];
    let i = 0;
    for (; i < h.ref.length; i++) {
      const t = h.ref[i];
      if (t.t === 'scalar' && typeof t.v === 'string') path.push(t.v);
      else break;
    }
    const keys = h.ref.slice(i);
    let kind: RuleKind;
    if (h.args) kind = 'func';
    else if (h.key) kind = keys.length === 0 ? 'set' : 'object';
    else kind = keys.length ? 'object' : 'complete';
    // `p[q] contains r`: an object whose leaves are sets
    const multi = h.key !== undefined && keys.length > 0;
    if (multi) kind = 'object';
    const scope: Scope = { vars: new Map(), alloc: { n: 0 } };
    const trueTerm: Term = { t: 'scalar', v: true, loc: r.loc };
    const headTerms: Term[] = [...keys, ...(h.args ?? []), ...(h.key ? [h.key] : []), ...(h.value ? [h.value] : [])];
    // declare head vars and args first so body and head share them
    const declared = new Set<string>();
    for (const a of h.args ?? []) collectPatternNames(a, declared);
    const res = new Resolver(g, this.errors);
    res.declareBody(r.body, scope, headTerms, declared);
    const rk = (t: Term) => res.term(t, scope);
    // an argument that is not a pattern (e.g. a template string) is checked after the body binds its vars
    const argChecks: Expr[] = [];
    const args = h.args?.map(rk).map((a) => {
      if (isPattern(a)) return a;
      const v: Term = { t: 'var', name: '$arg', slot: scope.alloc.n++, loc: a.loc };
      argChecks.push({ k: 'unify', a: v, b: a, negated: false, with: [], loc: a.loc });
      return v;
    });
    const rKeys = keys.map(rk);
    const member = h.key ? rk(h.key) : undefined;
    const value = h.value ? rk(h.value) : multi && member ? member : trueTerm;
    const body = [...res.body(r.body, scope), ...argChecks];
    const bound = new Set<number>();
    for (const a of args ?? []) patternVars(a, bound);
    const ordered = r.isDefault ? body : orderBody(body, bound, this.errors);
    const headNeeds = new Set<number>();
    for (const t of [...rKeys, ...(member ? [member] : []), value]) evalVars(t, headNeeds, bound, bound);
    for (const s of headNeeds) {
      if (!bound.has(s)) {
        this.errors.push(err('rego_unsafe_var_error', `var ${res.nameOf(s)} is unsafe`, r.loc));
        break;
      }
    }
    if (r.isDefault && headNeeds.size) this.errors.push(err('rego_type_error', 'default rule value cannot contain var', r.loc));
    const c: CRule = {
      kind, multi, path, keys: rKeys.map(shapeTerm), member: multi || !member ? undefined : shapeTerm(member), value: shapeTerm(foldConst(value)),
      args: args?.map(shapeTerm), body: shapeBody(ordered), nslots: scope.alloc.n, isDefault: r.isDefault, else: undefined,
      loc: r.loc, constValue: isGround(value), annotations: r.annotations, docAnnotation: undefined, pkgAnnotations: pkgAnn, module: r.module,
    };
    if (r.else) {
      if (kind !== 'complete' && kind !== 'func') this.errors.push(err('rego_type_error', 'else keyword cannot be used on multi-value rules', r.loc));
      const e = this.compileRule({ ...r.else, head: { ...r.else.head, ref: r.head.ref, args: r.head.args } }, g, pkgAnn);
      c.else = e;
    }
    return c;
  }

  private linkDocAnnotations(n: RuleNode): void {
    const all = [...n.rules, ...(n.defaultRule ? [n.defaultRule] : [])];
    const doc = all.find((r) => r.annotations?.scope === 'document')?.annotations;
    if (doc) for (const r of all) for (let c: CRule | undefined = r; c; c = c.else) c.docAnnotation = doc;
    for (const c of n.children.values()) this.linkDocAnnotations(c);
  }

  private checkKinds(n: RuleNode): void {
    if (n.hasRules() && n.kind !== 'object') {
      for (const c of n.children.values()) {
        if (c.hasRules() || c.children.size) {
          const r = c.rules[0] ?? c.defaultRule;
          if (n.kind === 'func' || n.kind === 'set' || n.kind === 'complete') {
            this.errors.push(err('rego_type_error', `rule data.${n.path.join('.')} conflicts with [data.${c.path.join('.')}]`, (r ?? n.rules[0])?.loc));
          }
        }
      }
    }
    for (const c of n.children.values()) this.checkKinds(c);
  }

  /** The nodes that hold rules, and the rule nodes each one's rules reach through data refs and calls. */
  private ruleDeps(): { nodes: RuleNode[]; deps: Map<RuleNode, Set<RuleNode>> } {
    const deps = new Map<RuleNode, Set<RuleNode>>();
    const nodes: RuleNode[] = [];
    const walkNodes = (n: RuleNode) => { if (n.hasRules()) nodes.push(n); for (const c of n.children.values()) walkNodes(c); };
    walkNodes(this.root);
    // rules a data ref can reach: ground keys pick a child, anything else matches every child
    const targets = (path: (string | undefined)[], out: Set<RuleNode>, n: RuleNode = this.root, i = 0): void => {
      if (n.hasRules()) { out.add(n); return; }
      if (i === path.length) {
        const all = (m: RuleNode) => { if (m.hasRules()) out.add(m); for (const c of m.children.values()) all(c); };
        all(n);
        return;
      }
      const key = path[i];
      if (key !== undefined) { const c = n.children.get(key); if (c) targets(path, out, c, i + 1); return; }
      for (const c of n.children.values()) targets(path, out, c, i + 1);
    };
    for (const n of nodes) {
      const out = new Set<RuleNode>();
      for (const first of [...n.rules, ...(n.defaultRule ? [n.defaultRule] : [])]) {
        for (let r: CRule | undefined = first; r; r = r.else) visitRule(r, (t) => {
          if (t.t === 'ref' && t.head.t === 'var' && t.head.name === 'data') targets(refKeys(t.path), out);
          else if (t.t === 'call' && t.op.startsWith('data.')) targets(t.op.split('.').slice(1), out);
        });
      }
      deps.set(n, out);
    }
    return { nodes, deps };
  }

  /** Rules that depend on themselves through data refs or calls (rego_recursion_error). */
  private checkRecursion(nodes: RuleNode[], deps: Map<RuleNode, Set<RuleNode>>): void {
    const state = new Map<RuleNode, number>();
    const stack: RuleNode[] = [];
    const visit = (n: RuleNode): boolean => {
      state.set(n, 1);
      stack.push(n);
      for (const d of deps.get(n) ?? []) {
        const s = state.get(d);
        if (s === 1) {
          const cyc = stack.slice(stack.indexOf(d)).map((x) => `data.${x.path.join('.')}`);
          const r = d.rules[0] ?? d.defaultRule!;
          this.errors.push(err('rego_recursion_error', `rule data.${d.path.join('.')} is recursive: ${[...cyc, cyc[0]].join(' -> ')}`, r.loc));
          return true;
        }
        if (!s && visit(d)) return true;
      }
      stack.pop();
      state.set(n, 2);
      return false;
    };
    for (const n of nodes) if (!state.get(n) && visit(n)) return;
  }
}

/** Package annotations for a package, then `subpackages` annotations of it and its ancestors. */
function pkgAnnotations(modules: Module[], pkg: string[]): CRule['pkgAnnotations'] {
  const out: CRule['pkgAnnotations'] = [];
  for (let len = pkg.length; len >= 2; len--) {
    const p = pkg.slice(0, len).join('.');
    for (const m of modules) {
      if (m.package.join('.') !== p) continue;
      for (const a of m.annotations) {
        if ((a.scope === 'package' && len === pkg.length) || a.scope === 'subpackages') out.push({ path: pkg.slice(1, len), a });
      }
    }
  }
  return out;
}

/**
 * Sets `inputFree` on the rule nodes whose rules (and every rule they reach) read no `input`, contain no `with`,
 * call no nondeterministic or host-registered builtin, no `print` and no `rego.metadata.*`, and reach `data` only
 * through references (whose targets are in `deps`), never as a whole.
 */
function markInputFree(nodes: RuleNode[], deps: Map<RuleNode, Set<RuleNode>>): void {
  const own = new Map<RuleNode, boolean>();
  for (const n of nodes) {
    let free = true;
    const term = (t: Term): void => {
      switch (t.t) {
        case 'var': if (t.slot === undefined && (t.name === 'input' || t.name === 'data')) free = false; break;
        case 'ref':
          if (!(t.head.t === 'var' && t.head.slot === undefined && t.head.name === 'data')) term(t.head);
          t.path.forEach(term);
          break;
        case 'array': case 'set': t.items.forEach(term); break;
        case 'object': t.items.forEach(([k, v]) => { term(k); term(v); }); break;
        case 'call':
          // print and rego.metadata.* have no builtin definition here
          if (!t.op.startsWith('data.') && (!t.builtin || t.builtin.nondeterministic || isHostBuiltin(t.op))) free = false;
          t.args.forEach(term);
          break;
        case 'arraycomp': case 'setcomp': term(t.head); body(t.body); break;
        case 'objcomp': term(t.key); term(t.value); body(t.body); break;
        case 'template': t.parts.forEach((p) => typeof p !== 'string' && term(p)); break;
        case 'withterm': free = false; break;
      }
    };
    const body = (b: Body): void => {
      for (const e of b) {
        if (e.with.length) free = false;
        switch (e.k) {
          case 'term': term(e.term); break;
          case 'unify': case 'assign': term(e.a); term(e.b); break;
          case 'some': break;
          case 'somein': if (e.key) term(e.key); term(e.value); term(e.coll); break;
          case 'every': if (e.key) term(e.key); term(e.value); term(e.coll); body(e.body); break;
        }
      }
    };
    for (const first of [...n.rules, ...(n.defaultRule ? [n.defaultRule] : [])]) {
      for (let r: CRule | undefined = first; r; r = r.else) {
        [...r.keys, r.value, ...(r.member ? [r.member] : []), ...(r.args ?? [])].forEach(term);
        body(r.body);
      }
    }
    // a node with children merges their documents into its value: not worth following
    own.set(n, free && n.children.size === 0);
  }
  // the rule graph has no cycles here (checkRecursion ran first)
  const done = new Map<RuleNode, boolean>();
  const free = (n: RuleNode): boolean => {
    let f = done.get(n);
    if (f === undefined) {
      f = own.get(n) ?? false;
      for (const d of deps.get(n) ?? []) if (f) f = free(d);
      done.set(n, f);
    }
    return f;
  };
  for (const n of nodes) n.inputFree = free(n);
}

function refKeys(path: Term[]): (string | undefined)[] {
  return path.map((p) => ((p.t === 'scalar' || p.t === 'const') && (typeof p.v === 'string' || typeof p.v === 'number') ? String(p.v) : undefined));
}


function visitRule(r: CRule, f: (t: Term) => void): void {
  const terms: Term[] = [...r.keys, r.value, ...(r.member ? [r.member] : []), ...(r.args ?? [])];
  for (const t of terms) visitTerm(t, f);
  visitBody(r.body, f);
}

export function visitBody(b: Body, f: (t: Term) => void): void {
  for (const e of b) {
    switch (e.k) {
      case 'term': visitTerm(e.term, f); break;
      case 'unify': case 'assign': visitTerm(e.a, f); visitTerm(e.b, f); break;
      case 'some': break;
      case 'somein': if (e.key) visitTerm(e.key, f); visitTerm(e.value, f); visitTerm(e.coll, f); break;
      case 'every': visitTerm(e.coll, f); visitBody(e.body, f); break;
    }
    for (const w of e.with) { visitTerm(w.value, f); }
  }
}

export function visitTerm(t: Term, f: (t: Term) => void): void {
  f(t);
  switch (t.t) {
    case 'ref': visitTerm(t.head, f); t.path.forEach((p) => visitTerm(p, f)); break;
    case 'array': case 'set': t.items.forEach((p) => visitTerm(p, f)); break;
    case 'object': t.items.forEach(([k, v]) => { visitTerm(k, f); visitTerm(v, f); }); break;
    case 'call': t.args.forEach((p) => visitTerm(p, f)); break;
    case 'arraycomp': case 'setcomp': visitTerm(t.head, f); visitBody(t.body, f); break;
    case 'objcomp': visitTerm(t.key, f); visitTerm(t.value, f); visitBody(t.body, f); break;
    case 'template': t.parts.forEach((p) => typeof p !== 'string' && visitTerm(p, f)); break;
    case 'withterm': visitTerm(t.term, f); t.with.forEach((w) => visitTerm(w.value, f)); break;
  }
}

function collectPatternNames(t: Term, out: Set<string>): void {
  if (t.t === 'var') out.add(t.name);
  else if (t.t === 'array') t.items.forEach((x) => collectPatternNames(x, out));
  else if (t.t === 'object') t.items.forEach(([, v]) => collectPatternNames(v, out));
}

/** Names resolution: locals → slots, globals → data/input refs. */
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
            assigned.add(n);
          }
          declare(e.a, i);
          break;
        }
        case 'some': for (const v of e.vars) declare(v, i); break;
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
            return { ...base, k: 'unify', a: out, b: call };
          }
        }
        return { ...base, k: 'term', term: this.term(t, scope) };
      }
      case 'unify': return { ...base, k: 'unify', a: this.term(e.a, scope), b: this.term(e.b, scope) };
      case 'assign': return { ...base, k: 'assign', a: this.term(e.a, scope), b: this.term(e.b, scope) };
      case 'some': return { ...base, k: 'some', vars: e.vars.map((v) => this.term(v, scope)) };
      case 'somein': return { ...base, k: 'somein', key: e.key && this.term(e.key, scope), value: this.term(e.value, scope), coll: this.term(e.coll, scope) };
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
        const ordered = orderBody(body, bound, this.errors);
        const r = { ...base, k: 'every' as const, key, value, coll, body: ordered };
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
        if (imp) return imp.t === 'var' ? imp : { ...imp, loc: t.loc };
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
          } else {
            // constant arguments of a kind the builtin never accepts are type errors at compile time
            const bad = t.args.some((a, i) => {
              const spec = i < b.args.length ? b.args[i] : b.variadic;
              if (spec === undefined || (a.t !== 'scalar' && a.t !== 'const')) return false;
              const kinds = specKinds(spec);
              return !kinds.includes('any') && !kinds.includes(typeName(a.v));
            });
            if (bad) {
              const have = t.args.map((a) => (a.t === 'scalar' || a.t === 'const' ? typeName(a.v) : 'any')).join(', ');
              this.errors.push(err('rego_type_error', `${t.op}: invalid argument(s)\n\thave: (${have})\n\twant: (${b.args.join(', ')})`, t.loc));
            }
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
        const free = freeSlots(start, rh, body);
        const bound = new Set<number>(free);
        const ordered = orderBody(body, bound, this.errors);
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

/** Terms that match a value by structure (function parameters). */
function isPattern(t: Term): boolean {
  switch (t.t) {
    case 'var': case 'scalar': case 'const': return true;
    case 'array': return t.items.every(isPattern);
    case 'object': return t.items.every(([k, v]) => isGround(k) && isPattern(v));
    case 'ref': return t.head.t === 'var' && t.head.slot === undefined;
    default: return false;
  }
}

export function isGround(t: Term): boolean {
  switch (t.t) {
    case 'scalar': case 'const': return true;
    case 'array': case 'set': return t.items.every(isGround);
    case 'object': return t.items.every(([k, v]) => isGround(k) && isGround(v));
    default: return false;
  }
}

function groundValue(t: Term): Value {
  switch (t.t) {
    case 'scalar': case 'const': return t.v;
    case 'array': return t.items.map(groundValue);
    case 'set': return makeSet(t.items.map(groundValue));
    case 'object': return makeObject(t.items.map(([k, v]) => [groundValue(k), groundValue(v)]));
    default: throw new Error('not ground');
  }
}

/** Ground composite literals become constants (built once). */
export function foldConst(t: Term): Term {
  if ((t.t === 'array' || t.t === 'set' || t.t === 'object') && isGround(t)) return { t: 'const', v: groundValue(t), loc: t.loc };
  return t;
}

// ---------- safety analysis ----------

/** Vars needed to evaluate a term (input positions); ref path vars are outputs. */
export function evalVars(t: Term, needs: Set<number>, binds?: Set<number>, bound?: Set<number>): void {
  switch (t.t) {
    case 'var': if (t.slot !== undefined && !bound?.has(t.slot)) needs.add(t.slot); break;
    case 'ref':
      evalVars(t.head, needs, binds, bound);
      for (const p of t.path) {
        if (p.t === 'var' && p.slot !== undefined && !bound?.has(p.slot)) binds?.add(p.slot) ?? needs.add(p.slot);
        else if (p.t === 'array' || p.t === 'object') patVars(p, needs, binds ?? needs, bound);
        else evalVars(p, needs, binds, bound);
      }
      break;
    case 'array': case 'set': t.items.forEach((x) => evalVars(x, needs, binds, bound)); break;
    case 'object': t.items.forEach(([k, v]) => { evalVars(k, needs, binds, bound); evalVars(v, needs, binds, bound); }); break;
    case 'call': t.args.forEach((x) => evalVars(x, needs, binds, bound)); break;
    case 'template': t.parts.forEach((p) => typeof p !== 'string' && evalVars(p, needs, binds, bound)); break;
    case 'withterm': evalVars(t.term, needs, binds, bound); t.with.forEach((w) => evalVars(w.value, needs, undefined, bound)); break;
    case 'arraycomp': case 'setcomp': case 'objcomp':
      for (const s of (t as Closure)[FREE] ?? []) if (!bound?.has(s)) needs.add(s);
      break;
  }
}

/** Vars in pattern positions get bound; other positions are evaluated. */
function patVars(t: Term, needs: Set<number>, binds: Set<number>, bound?: Set<number>): void {
  switch (t.t) {
    case 'var': if (t.slot !== undefined && !bound?.has(t.slot)) binds.add(t.slot); break;
    case 'array': t.items.forEach((x) => patVars(x, needs, binds, bound)); break;
    case 'object': t.items.forEach(([k, v]) => { evalVars(k, needs, binds, bound); patVars(v, needs, binds, bound); }); break;
    default: evalVars(t, needs, binds, bound);
  }
}

export function patternVars(t: Term, out: Set<number>): void {
  patVars(t, new Set(), out);
}

interface Analysis { needs: Set<number>; binds: Set<number> }

function unifyAnalysis(a: Term, b: Term, bound: Set<number>): Analysis | undefined {
  const tryOpt = (f: (n: Set<number>, bi: Set<number>) => void): Analysis | undefined => {
    const needs = new Set<number>(), binds = new Set<number>();
    f(needs, binds);
    for (const n of needs) if (!bound.has(n) && !binds.has(n)) return undefined;
    return { needs, binds };
  };
  if ((a.t === 'array' && b.t === 'array' && a.items.length === b.items.length) || (a.t === 'object' && b.t === 'object')) {
    // pairwise, in any order that works
    const pairs: [Term, Term][] = a.t === 'array' && b.t === 'array' ? a.items.map((x, i) => [x, b.items[i]]) : [];
    if (a.t === 'object' && b.t === 'object') {
      for (const [k, v] of a.items) {
        const m = b.items.find(([k2]) => (isGround(k) && isGround(k2) && equal(groundValue(k), groundValue(k2)))
          || (k.t === 'var' && k2.t === 'var' && k.slot !== undefined && k.slot === k2.slot && bound.has(k.slot)));
        if (m) pairs.push([v, m[1]]);
      }
    }
    const b2 = new Set(bound), binds = new Set<number>();
    let left = pairs;
    while (left.length) {
      const rest: [Term, Term][] = [];
      for (const [x, y] of left) {
        const r = unifyAnalysis(x, y, b2);
        if (r) for (const v of r.binds) { b2.add(v); binds.add(v); }
        else rest.push([x, y]);
      }
      if (rest.length === left.length) break;
      left = rest;
    }
    if (left.length === 0) return { needs: new Set(), binds };
  }
  return tryOpt((n, bi) => { evalVars(a, n, bi, bound); patVars(b, n, bi, bound); })
    ?? tryOpt((n, bi) => { evalVars(b, n, bi, bound); patVars(a, n, bi, bound); });
}


function analyze(e: Expr, bound: Set<number>, otherUses: (s: number) => boolean, wildcard: (s: number) => boolean): Analysis | undefined {
  let r: Analysis | undefined;
  switch (e.k) {
    case 'term': { const needs = new Set<number>(), binds = new Set<number>(); evalVars(e.term, needs, binds, bound); r = { needs, binds }; break; }
    case 'unify': case 'assign': r = unifyAnalysis(e.a, e.b, bound); break;
    case 'some': r = { needs: new Set(), binds: new Set() }; break;
    case 'somein': {
      const needs = new Set<number>(), binds = new Set<number>();
      evalVars(e.coll, needs, binds, bound);
      if (e.key) patVars(e.key, needs, binds, bound);
      patVars(e.value, needs, binds, bound);
      r = { needs, binds };
      break;
    }
    case 'every': {
      const needs = new Set<number>(), binds = new Set<number>();
      evalVars(e.coll, needs, binds, bound);
      for (const s of (e as unknown as Closure)[FREE] ?? []) if (!bound.has(s)) needs.add(s);
      r = { needs, binds: new Set() };
      break;
    }
  }
  if (!r) return undefined;
  for (const w of e.with) evalVars(w.value, r.needs, undefined, bound);
  if (e.negated) {
    // a negated expression binds nothing: its vars must be bound by other expressions; only `_` may stand alone
    for (const b of r.binds) {
      if (otherUses(b)) r.needs.add(b);
      else if (!wildcard(b)) return undefined;
    }
    r.binds = new Set();
  }
  for (const n of r.needs) if (!bound.has(n) && !r.binds.has(n)) return undefined;
  return r;
}

/** Orders a body so that every expression's inputs are bound first; reports unsafe vars. */
export function orderBody(body: Body, bound: Set<number>, errors: RegoErrorDetail[]): Body {
  // vars used by each expression: needed only for negations and error messages, so computed on demand
  let usesCache: Set<number>[] | undefined;
  const uses = (): Set<number>[] => usesCache ??= body.map((e) => {
    const s = new Set<number>();
    visitBody([e], (t) => { if (t.t === 'var' && t.slot !== undefined) s.add(t.slot); });
    return s;
  });
  const pending = body.map((e, i) => ({ e, i }));
  const out: Body = [];
  while (pending.length) {
    let progressed = false;
    for (let j = 0; j < pending.length; j++) {
      const { e, i } = pending[j];
      const r = analyze(e, bound, (s) => uses().some((u, k) => k !== i && u.has(s)), (s) => varName(body, s) === '_');
      if (!r) continue;
      for (const b of r.binds) bound.add(b);
      out.push(e);
      pending.splice(j, 1);
      progressed = true;
      break;
    }
    if (!progressed) {
      // report the first unbound input var of the first expression that cannot be scheduled
      const needs = new Set<number>();
      for (const p of pending) {
        const n = new Set<number>(), b = new Set<number>();
        if (p.e.k === 'term') evalVars(p.e.term, n, b, bound);
        else if (p.e.k === 'unify' || p.e.k === 'assign') { evalVars(p.e.a, n, b, bound); evalVars(p.e.b, n, b, bound); }
        for (const x of n) needs.add(x);
      }
      const names = [...(needs.size ? needs : uses()[pending[0].i])].filter((s) => !bound.has(s));
      const first = pending[0].e;
      const nameOf = (s: number) => varName(body, s) ?? `$${s}`;
      errors.push(err('rego_unsafe_var_error', `var ${names.length ? nameOf(names[0]) : '?'} is unsafe`, first.loc));
      return [...out, ...pending.map((p) => p.e)];
    }
  }
  return out;
}

function varName(body: Body, slot: number): string | undefined {
  let name: string | undefined;
  visitBody(body, (t) => { if (t.t === 'var' && t.slot === slot) name = t.name; });
  return name;
}

/**
 * Copies of compiled terms and expressions that all have one object shape (every field of every kind, unused
 * ones undefined): the evaluator reads `t.t`, `e.k`, ... of every kind of term at the same sites, and with one
 * shape those reads stay monomorphic instead of going through V8's megamorphic lookup.
 */
export function shapeTerm(t: Term): Term {
  const u: Record<string, unknown> = {
    t: t.t, v: undefined, name: undefined, slot: undefined, head: undefined, path: undefined, items: undefined, op: undefined,
    args: undefined, builtin: undefined, fn: undefined, walk: undefined, key: undefined, value: undefined, body: undefined,
    parts: undefined, term: undefined, with: undefined, loc: t.loc,
  };
  switch (t.t) {
    case 'scalar': case 'const': u.v = t.v; break;
    case 'var': u.name = t.name; u.slot = t.slot; break;
    case 'ref': u.head = shapeTerm(t.head); u.path = t.path.map(shapeTerm); break;
    case 'array': case 'set': u.items = t.items.map(shapeTerm); break;
    case 'object': u.items = t.items.map(([k, v]) => [shapeTerm(k), shapeTerm(v)]); break;
    case 'call': u.op = t.op; u.args = t.args.map(shapeTerm); u.builtin = t.builtin; break;
    case 'arraycomp': case 'setcomp': u.head = shapeTerm(t.head); u.body = shapeBody(t.body); break;
    case 'objcomp': u.key = shapeTerm(t.key); u.value = shapeTerm(t.value); u.body = shapeBody(t.body); break;
    case 'template': u.parts = t.parts.map((p) => (typeof p === 'string' ? p : shapeTerm(p))); break;
    case 'withterm': u.term = shapeTerm(t.term); u.with = t.with.map(shapeWith); break;
  }
  return u as Term;
}

export function shapeBody(body: Body): Body {
  return body.map((e) => {
    const u: Record<string, unknown> = {
      k: e.k, term: undefined, a: undefined, b: undefined, vars: undefined, key: undefined, value: undefined, coll: undefined,
      body: undefined, negated: e.negated, with: e.with.map(shapeWith), loc: e.loc,
    };
    switch (e.k) {
      case 'term': u.term = shapeTerm(e.term); break;
      case 'unify': case 'assign': u.a = shapeTerm(e.a); u.b = shapeTerm(e.b); break;
      case 'some': u.vars = e.vars.map(shapeTerm); break;
      case 'somein': u.key = e.key && shapeTerm(e.key); u.value = shapeTerm(e.value); u.coll = shapeTerm(e.coll); break;
      case 'every': u.key = e.key && shapeTerm(e.key); u.value = shapeTerm(e.value); u.coll = shapeTerm(e.coll); u.body = shapeBody(e.body); break;
    }
    return u as Expr;
  });
}

function shapeWith(w: With): With {
  return { target: shapeTerm(w.target), value: shapeTerm(w.value), loc: w.loc };
}
