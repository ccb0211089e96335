/**
 * Type checking (OPA's CheckTypes stage), for what can be known without schemas: the types of literals,
 * comprehensions, builtin results and the variables bound to them flow through each ordered body, and
 *  - a builtin called with an argument of a known type it never accepts is `<name>: invalid argument(s)`,
 *  - `=` / `:=` between terms of two different known types is `match error`,
 *  - a reference into a known scalar (a number, string, boolean or null) is `undefined ref`.
 * Unknown (input, data, rule values, user functions) is `any` and never an error, so the check only reports what
 * OPA reports too.
 */
import type { Body, Expr, Term } from '../ast.js';
import { BUILTINS } from '../builtins/index.js';
import { specKinds } from '../builtins/registry.js';
import type { RegoErrorDetail } from '../errors.js';
import { isArray, isObject, isSet, typeName, type Value } from '../value.js';
import { err } from './errors.js';
import type { CRule, RuleNode } from './rule-tree.js';

type Kind = 'any' | 'null' | 'boolean' | 'number' | 'string' | 'array' | 'set' | 'object';
/**
 * `alts`: with k 'any', the kinds a value may have (a builtin result such as number|set); `fields`: an object's
 * known keys (from a JSON schema), `closed` when it has no others; `items`: an array literal's member types, and
 * `keys`: an object literal's (string keys), which OPA's checker compares member by member.
 */
interface Ty { k: Kind; of?: Ty; alts?: Kind[]; fields?: Map<string, Ty>; closed?: boolean; items?: Ty[]; keys?: Map<string, Ty> }

export type InputType = Ty;

/** The type a JSON schema gives a document (what OPA's checker takes from `-s` / `schemas:` annotations). */
export function schemaType(s: unknown): Ty {
  if (!s || typeof s !== 'object') return ANY;
  const o = s as { type?: unknown; properties?: Record<string, unknown>; items?: unknown; additionalProperties?: unknown };
  switch (o.type) {
    case 'object': {
      const fields = new Map(Object.entries(o.properties ?? {}).map(([k, v]) => [k, schemaType(v)]));
      return { k: 'object', of: ANY, fields, closed: !o.additionalProperties };
    }
    case 'array': return { k: 'array', of: schemaType(o.items) };
    case 'string': return { k: 'string' };
    case 'number': case 'integer': return { k: 'number' };
    case 'boolean': return { k: 'boolean' };
    case 'null': return { k: 'null' };
    default: return ANY;
  }
}

const ANY: Ty = { k: 'any' };
const SCALARS = new Set<Kind>(['null', 'boolean', 'number', 'string']);
type Env = Map<number, Ty>;

const same = (a: Ty[]): Ty => (a.length && a.every((t) => t.k === a[0].k && t.k !== 'any') ? { k: a[0].k } : ANY);

function ofValue(v: Value): Ty {
  if (isArray(v)) return { k: 'array', of: same(v.map(ofValue)) };
  if (isSet(v)) return { k: 'set', of: same(v.values().map(ofValue)) };
  if (isObject(v)) return { k: 'object', of: same(v.entries().map(([, x]) => ofValue(x))) };
  return { k: typeName(v) as Kind };
}

/** A builtin's result spec as a type: one kind, or a union of kinds. */
function ofSpec(spec: string): Ty {
  const kinds = specKinds(spec) as Kind[];
  if (kinds.includes('any')) return ANY;
  return kinds.length === 1 ? { k: kinds[0] } : { k: 'any', alts: kinds };
}

/** The kinds a type admits (undefined: all). */
const kindsOf = (t: Ty): Kind[] | undefined => (t.k !== 'any' ? [t.k] : t.alts);

function compatible(a: Ty, b: Ty): boolean {
  const ka = kindsOf(a), kb = kindsOf(b);
  if (!ka || !kb) return true;
  if (!ka.some((k) => kb.includes(k))) return false;
  if (a.items || b.items) return compatibleItems(a, b) && compatibleItems(b, a);
  if (a.keys && b.keys) {
    if (a.keys.size !== b.keys.size) return false;
    for (const [k, t] of a.keys) { const u = b.keys.get(k); if (!u || !compatible(t, u)) return false; }
    return true;
  }
  // two collections of one kind: their element types must meet too
  return a.k === 'any' || b.k === 'any' || !a.of || !b.of || compatible(a.of, b.of);
}

/** An array literal against another array: member by member, or each member against the other's element type. */
function compatibleItems(a: Ty, b: Ty): boolean {
  if (!a.items || b.k !== 'array') return true;
  if (b.items) return a.items.length === b.items.length && a.items.every((t, i) => compatible(t, b.items![i]));
  return !b.of || a.items.every((t) => compatible(t, b.of!));
}

const show = (t: Ty): string => (t.alts ? `any<${t.alts.join(', ')}>` : t.k === 'array' || t.k === 'set' ? `${t.k}[${show(t.of ?? ANY)}]` : t.k === 'object' ? `object[any: ${show(t.of ?? ANY)}]` : t.k);

/** The types of rule values known so far (rules are typed in dependency order). */
export type RuleTypes = Map<RuleNode, Ty>;

class Checker {
  constructor(private errors: RegoErrorDetail[], private input: Ty = ANY, private root?: RuleNode, private rules?: RuleTypes) {}

  /** The node a data reference's ground prefix reaches, and how many path elements that took. */
  private ruleAt(path: Term[]): { node: RuleNode; used: number } | undefined {
    let n = this.root;
    for (let i = 0; n && i < path.length; i++) {
      const p = path[i];
      if (p.t !== 'scalar' || typeof p.v !== 'string') return undefined;
      n = n.children.get(p.v);
      if (n?.hasRules()) return { node: n, used: i + 1 };
    }
    return undefined;
  }

  body(b: Body, env: Env): void {
    for (const e of b) this.expr(e, env);
  }

  /** Vars met as elements of composite literals in the current expression: `any` once it is checked. */
  private widened: number[] = [];

  private expr(e: Expr, env: Env): void {
    // `with` values are expressions of their own to OPA's checker (they are rewritten into the body before it)
    for (const w of e.with) this.settled(() => this.term(w.value, env), env);
    // so are the calls nested in an expression: their arguments are typed before the expression is
    for (const t of exprOperands(e)) this.typeCallArgs(t, env);
    this.settled(() => this.exprTerms(e, env), env);
  }

  /** Checks the outermost comprehensions in a body's expressions (and in those of nested every bodies). */
  private comprehensionsIn(b: Body, env: Env): void {
    for (const e of b) {
      if (e.k === 'every') { this.comprehensionsIn(e.body, env); continue; }
      const visit = (t: Term): void => {
        switch (t.t) {
          case 'arraycomp': case 'setcomp': case 'objcomp': this.headTerm(t, env); break;
          case 'call': t.args.forEach(visit); break;
          case 'ref': visit(t.head); t.path.forEach(visit); break;
          case 'array': case 'set': t.items.forEach(visit); break;
          case 'object': t.items.forEach(([k, v]) => { visit(k); visit(v); }); break;
        }
      };
      [...exprOperands(e), ...e.with.map((w) => w.value)].forEach(visit);
    }
  }

  /**
   * A var not typed yet (a function's argument) takes the type of the builtin parameter it is passed to, as
   * OPA's checker unifies it (`f(a) := a + a if count(a) > 0` then adds two collections). Comprehension bodies
   * are left to their own check, where their vars are bound first.
   */
  private typeCallArgs(t: Term, env: Env): void {
    switch (t.t) {
      case 'call': {
        const b = BUILTINS[t.op];
        t.args.forEach((a, i) => {
          const spec = b && t.op !== 'print' ? (i < b.args.length ? b.args[i] : b.variadic) : undefined;
          if (spec !== undefined && a.t === 'var' && a.slot !== undefined && !env.has(a.slot)) env.set(a.slot, ofSpec(spec));
          else this.typeCallArgs(a, env);
        });
        break;
      }
      case 'ref': this.typeCallArgs(t.head, env); t.path.forEach((p) => this.typeCallArgs(p, env)); break;
      case 'array': case 'set': t.items.forEach((x) => this.typeCallArgs(x, env)); break;
      case 'object': t.items.forEach(([k, v]) => { this.typeCallArgs(k, env); this.typeCallArgs(v, env); }); break;
    }
  }

  /** Runs a check, then widens the vars it met inside composite literals (see `widening`). */
  private settled(f: () => void, env: Env): void {
    const outer = this.widened;
    this.widened = [];
    try {
      f();
    } finally {
      for (const slot of this.widened) env.set(slot, ANY);
      this.widened = outer;
    }
  }

  private exprTerms(e: Expr, env: Env): void {
    switch (e.k) {
      case 'term':
        // a body's `a == b` is unification by the time OPA checks types (its RewriteEquals stage)
        if (e.term.t === 'call' && e.term.op === 'equal' && e.term.args.length === 2) this.match(this.term(e.term.args[0], env), this.term(e.term.args[1], env), e);
        else this.term(e.term, env);
        break;
      case 'unify': case 'assign': {
        const ta = this.term(e.a, env), tb = this.term(e.b, env);
        this.match(ta, tb, e);
        this.bind(e.a, tb, env);
        this.bind(e.b, ta, env);
        break;
      }
      case 'somein': {
        const tc = this.term(e.coll, env);
        if (SCALARS.has(tc.k)) this.errors.push(err('rego_type_error', `undefined ref: ${refText(e.coll)}[${refText(e.value)}]\n\thave: ${show(tc)}`, e.loc));
        this.bind(e.value, tc.k === 'array' || tc.k === 'set' || tc.k === 'object' ? tc.of ?? ANY : ANY, env);
        if (e.key) this.bind(e.key, tc.k === 'array' ? { k: 'number' } : tc.k === 'set' ? tc.of ?? ANY : ANY, env);
        break;
      }
      case 'every': {
        // OPA reports no type error of an every body's own expressions, but does of the comprehensions in them
        // (checked with the every's key and value untyped: `any`)
        this.term(e.coll, env);
        const inner = new Map(env);
        for (const v of [e.key, e.value]) if (v?.t === 'var' && v.slot !== undefined) inner.set(v.slot, ANY);
        this.comprehensionsIn(e.body, inner);
        break;
      }
      case 'some': break;
    }
  }

  private match(ta: Ty, tb: Ty, e: Expr): void {
    if (!compatible(ta, tb)) this.errors.push(err('rego_type_error', `match error\n\tleft  : ${show(ta)}\n\tright : ${show(tb)}`, e.loc));
  }

  /**
   * A var that stands as an element of a composite literal is `any` after the expression: OPA's checker loses its
   * type there (`{v | some v in xs; 1 < {v}}` types v as any), and following it keeps us from errors OPA does not
   * report. Within the expression the var keeps its type (`{x} == x` with x an object is a match error).
   */
  private widening(items: Term[], ty: Ty): Ty {
    for (const x of items) if (x.t === 'var' && x.slot !== undefined) this.widened.push(x.slot);
    return ty;
  }

  /** A var that is not yet typed takes the type of what it is unified with. */
  private bind(t: Term, ty: Ty, env: Env): void {
    if (t.t === 'var' && t.slot !== undefined && !env.has(t.slot)) env.set(t.slot, ty);
  }

  /**
   * A head term: OPA moves the calls in it into the body, where they are checked; the literal around them is
   * no expression of the body, so it widens no var.
   */
  headTerm(t: Term, env: Env): Ty {
    const outer = this.widened;
    this.widened = [];
    try {
      return this.term(t, env);
    } finally {
      this.widened = outer;
    }
  }

  term(t: Term, env: Env): Ty {
    switch (t.t) {
      case 'scalar': case 'const': return ofValue(t.v);
      case 'var': return t.slot === undefined ? (t.name === 'input' ? this.input : ANY) : env.get(t.slot) ?? ANY;
      case 'template': t.parts.forEach((p) => typeof p !== 'string' && this.term(p, env)); return { k: 'string' };
      case 'array': {
        const items = t.items.map((x) => this.term(x, env));
        return this.widening(t.items, { k: 'array', of: same(items), items });
      }
      case 'set': return this.widening(t.items, { k: 'set', of: same(t.items.map((x) => this.term(x, env))) });
      case 'object': {
        t.items.forEach(([k]) => this.term(k, env));
        const values = t.items.map(([, v]) => this.term(v, env));
        const keys = t.items.every(([k]) => k.t === 'scalar' && typeof k.v === 'string') ? new Map(t.items.map(([k], i) => [(k as { v: string }).v, values[i]])) : undefined;
        return this.widening(t.items.map(([, v]) => v), { k: 'object', of: same(values), keys: keys?.size === t.items.length ? keys : undefined });
      }
      case 'arraycomp': case 'setcomp': {
        const inner = new Map(env);
        this.body(t.body, inner);
        return { k: t.t === 'arraycomp' ? 'array' : 'set', of: this.term(t.head, inner) };
      }
      case 'objcomp': {
        const inner = new Map(env);
        this.body(t.body, inner);
        this.term(t.key, inner);
        return { k: 'object', of: this.term(t.value, inner) };
      }
      case 'ref': return this.ref(t, env);
      case 'call': return this.call(t, env);
      case 'withterm': return this.term(t.term, env);
    }
  }

  private ref(t: Term & { t: 'ref' }, env: Env): Ty {
    let ty = this.term(t.head, env);
    let start = 0;
    if (t.head.t === 'var' && t.head.slot === undefined && t.head.name === 'data' && this.rules) {
      const at = this.ruleAt(t.path);
      if (!at || at.node.kind === 'func') return ANY;
      ty = this.rules.get(at.node) ?? ANY;
      start = at.used;
    }
    for (const [i, p] of t.path.entries()) {
      if (i < start) continue;
      this.term(p, env);
      if (ty.fields && p.t === 'scalar' && typeof p.v === 'string') {
        const f = ty.fields.get(p.v);
        if (f) { ty = f; continue; }
        if (ty.closed) {
          const known = [...ty.fields.keys()].sort().map((k) => JSON.stringify(k)).join(' ');
          this.errors.push(err('rego_type_error', `undefined ref: ${refText({ ...t, path: t.path.slice(0, i + 1) })}\n\thave: ${JSON.stringify(p.v)}\n\twant (one of): [${known}]`, t.loc));
          return ANY;
        }
      }
      if (SCALARS.has(ty.k)) {
        this.errors.push(err('rego_type_error', `undefined ref: ${refText(t)}\n\thave: ${show(ty)}`, t.loc));
        return ANY;
      }
      const member = p.t === 'scalar' ? (typeof p.v === 'string' ? ty.keys?.get(p.v) : typeof p.v === 'number' ? ty.items?.[p.v] : undefined) : undefined;
      ty = member ?? (ty.k === 'any' ? ANY : ty.of ?? ANY);
      if (p.t === 'var' && p.slot !== undefined && !env.has(p.slot)) env.set(p.slot, ANY);
    }
    return ty;
  }

  private call(t: Term & { t: 'call' }, env: Env): Ty {
    this.typeCallArgs(t, env);
    const args = t.args.map((a) => this.term(a, env));
    if (t.op.startsWith('data.')) {
      const at = this.rules && this.ruleAt(t.op.split('.').slice(1).map((v) => ({ t: 'scalar', v, loc: t.loc }) as Term));
      return at && at.node.kind === 'func' && at.used === t.op.split('.').length - 1 ? this.rules!.get(at.node) ?? ANY : ANY;
    }
    const b = BUILTINS[t.op];
    if (!b || t.op === 'print') return ANY;
    const bad = args.some((a, i) => {
      const spec = i < b.args.length ? b.args[i] : b.variadic;
      if (spec === undefined) return false;
      const kinds = specKinds(spec) as Kind[];
      return !kinds.includes('any') && !compatible(a, { k: 'any', alts: kinds });
    });
    if (bad) this.errors.push(err('rego_type_error', `${t.op}: invalid argument(s)\n\thave: (${args.map(show).join(', ')})\n\twant: (${b.args.join(', ')})`, t.loc));
    return ofSpec(b.result);
  }
}

/** The terms of an expression (not of `every` and `some` declarations). */
function exprOperands(e: Expr): Term[] {
  switch (e.k) {
    case 'term': return [e.term];
    case 'unify': case 'assign': return [e.a, e.b];
    case 'somein': return [e.coll];
    default: return [];
  }
}

function refText(t: Term): string {
  if (t.t === 'var') return t.name;
  if (t.t !== 'ref') return '…';
  return refText(t.head) + t.path.map((p) => {
    if (p.t === 'scalar') return typeof p.v === 'string' && /^[A-Za-z_]\w*$/.test(p.v) ? `.${p.v}` : `[${JSON.stringify(p.v)}]`;
    return p.t === 'var' ? `[${p.name}]` : '[…]';
  }).join('');
}

/** Checks a compiled rule (and its else chain): body in evaluation order, then the head terms; returns the value's type. */
export function checkRuleTypes(r: CRule, errors: RegoErrorDetail[], input?: InputType, root?: RuleNode, rules?: RuleTypes): Ty {
  const c = new Checker(errors, input, root, rules);
  const values: Ty[] = [];
  for (let cur: CRule | undefined = r; cur; cur = cur.else) {
    const env: Env = new Map();
    c.body(cur.body, env);
    for (const t of [...cur.keys, ...(cur.member ? [cur.member] : [])]) c.headTerm(t, env);
    values.push(c.headTerm(cur.value, env));
  }
  return join(values);
}

/** The type of a value that is one of `ts`: their kind when they agree, else a union of their kinds. */
function join(ts: Ty[]): Ty {
  const kinds = new Set<Kind>();
  for (const t of ts) {
    const ks = kindsOf(t);
    if (!ks) return ANY;
    ks.forEach((k) => kinds.add(k));
  }
  if (kinds.size === 1 && ts.length === 1) return ts[0];
  if (kinds.size === 1) return { k: [...kinds][0] };
  return { k: 'any', alts: [...kinds] };
}

/** A rule node's document type: complete and function rules by their values, partial sets and objects by kind. */
export function nodeType(n: RuleNode, values: Ty[]): Ty {
  if (n.children.size) return ANY;
  if (n.kind === 'set') return { k: 'set', of: ANY };
  if (n.kind === 'object') return { k: 'object', of: ANY };
  return join(values);
}
