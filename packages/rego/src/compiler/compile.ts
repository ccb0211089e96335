/**
 * Compiler: builds the rule tree, resolves names, orders body expressions for safety, and checks arity, unsafe
 * variables, conflicting rule kinds and recursion — each error with file:row:col. The passes, in order, each in
 * its own file: resolve (names), safety (ordering), rule-tree (kinds, annotations), deps (recursion),
 * input-free (shared values), shape (evaluator layout).
 */
import type { Import, Module, Rule, Term, Expr } from '../ast.js';
import { RegoError, type RegoErrorDetail } from '../errors.js';
import { refText } from '../parser.js';
import { checkRecursion, ruleDeps, type RuleDeps } from './deps.js';
import { rewriteNegatedDynamics } from './dynamics.js';
import { err } from './errors.js';
import { foldConst, isGround, isPattern } from './ground.js';
import { markInputFree } from './input-free.js';
import { collectPatternNames, Resolver, ROOT_DOCUMENTS, type Globals, type Scope } from './resolve.js';
import { checkKinds, linkDocAnnotations, pkgAnnotations, RuleNode, type CRule, type RuleKind } from './rule-tree.js';
import { evalVars, orderBody, patternVars } from './safety.js';
import { shapeBody, shapeTerm } from './shape.js';
import { checkRuleTypes, nodeType, type InputType, type RuleTypes } from './types.js';
import { checkStrictRule } from './unused.js';
import { checkSomeUsed } from './unused.js';

export interface CompilerOptions {
  /** OPA's strict mode (opa check --strict): unused imports, assigned vars and function arguments are errors */
  strict?: boolean;
  /** the type of `input` (from a JSON schema), for the type check */
  inputType?: InputType;
}

export class Compiler {
  readonly root = new RuleNode([]);
  readonly errors: RegoErrorDetail[] = [];
  readonly funcs = new Map<string, number>();

  constructor(readonly modules: Module[], private readonly opts: CompilerOptions = {}) {}

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
      const g: Globals = { funcs, pkg: m.package.slice(1), ruleRoots: byPkg.get(m.package.join('.'))!, imports: new Map(), v1: m.regoV1, usedImports: new Set() };
      const importTexts: { alias: string; text: string; loc: Import['loc'] }[] = [];
      const seen = new Map<string, string>();
      for (const imp of m.imports) {
        const text = refText(imp.path);
        if (!text || text.startsWith('future.') || text === 'future' || text === 'rego.v1') continue;
        const segs = imp.path.t === 'ref' ? imp.path.path : [];
        const last = segs.length ? segs[segs.length - 1] : undefined;
        const alias = imp.alias ?? (last && last.t === 'scalar' ? String(last.v) : text);
        // duplicate import names are an error in v1 (strict); in v0 the later import wins, as in OPA
        // OPA names the import shadowed (the earlier one) at the location of the later one
        const prev = seen.get(alias);
        if (prev && m.regoV1) this.errors.push(err('rego_compile_error', `import must not shadow import ${prev}`, imp.loc));
        seen.set(alias, `${text}${imp.alias ? ` as ${imp.alias}` : ''}`);
        importTexts.push({ alias, text: seen.get(alias)!, loc: imp.loc });
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
      if (this.opts.strict) {
        for (const imp of importTexts) if (!g.usedImports!.has(imp.alias)) this.strictImports.push(err('rego_compile_error', `import ${imp.text} unused`, imp.loc));
      }
    }
    // OPA's stages: unused imports are reported alone, then unused assigned vars and arguments with the other errors
    if (this.strictImports.length) throw new RegoError(this.strictImports.slice(0, 10));
    this.errors.push(...this.strictRules);
    linkDocAnnotations(this.root);
    checkKinds(this.root, this.errors);
    if (this.errors.length === 0) {
      const { nodes, deps } = ruleDeps(this.root);
      checkRecursion(nodes, deps, this.errors);
      // OPA checks types after recursion
      if (this.errors.length === 0) this.checkTypes(nodes, deps);
      if (this.errors.length === 0) markInputFree(nodes, deps);
    }
    if (this.errors.length) throw new RegoError(this.errors.slice(0, 10));
  }

  /** unused imports found in strict mode: OPA reports them before any later stage */
  private readonly strictImports: RegoErrorDetail[] = [];
  private readonly strictRules: RegoErrorDetail[] = [];

  /** Types rules in dependency order, so a reference to a rule knows the type of its value. */
  private checkTypes(nodes: RuleNode[], deps: RuleDeps): void {
    const types: RuleTypes = new Map();
    const done = new Set<RuleNode>();
    const visit = (n: RuleNode): void => {
      if (done.has(n)) return;
      done.add(n);
      for (const d of deps.get(n) ?? []) visit(d);
      const all = [...n.rules, ...(n.defaultRule ? [n.defaultRule] : [])];
      types.set(n, nodeType(n, all.map((r) => checkRuleTypes(r, this.errors, this.opts.inputType, this.root, types))));
    };
    nodes.forEach(visit);
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
    checkSomeUsed(body, [...rKeys, ...(member ? [member] : []), value, ...(args ?? [])], this.errors);
    if (this.opts.strict) checkStrictRule(body, [...rKeys, ...(member ? [member] : []), value], args ?? [], r.loc, this.strictRules);
    const bound = new Set<number>();
    for (const a of args ?? []) patternVars(a, bound);
    const ordered = r.isDefault ? body : rewriteNegatedDynamics(orderBody(body, bound, this.errors), scope.alloc);
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
}
