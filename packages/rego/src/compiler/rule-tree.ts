/**
 * The rule tree: compiled rules (CRule) hung on nodes by their ground path from the data root, as OPA's
 * compiler builds its rule tree; and the checks that need the whole tree (conflicting kinds), plus the
 * document-scope annotations shared by every rule of a path.
 */
import type { Annotations, Body, Module, Term } from '../ast.js';
import type { Location, RegoErrorDetail } from '../errors.js';
import type { RuleIndex } from '../indexing.js';
import { err } from './errors.js';

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

/** Package annotations for a package, then `subpackages` annotations of it and its ancestors. */
export function pkgAnnotations(modules: Module[], pkg: string[]): CRule['pkgAnnotations'] {
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

/** Gives every rule of a path the document-scope annotation one of them carries. */
export function linkDocAnnotations(n: RuleNode): void {
  const all = [...n.rules, ...(n.defaultRule ? [n.defaultRule] : [])];
  const doc = all.find((r) => r.annotations?.scope === 'document')?.annotations;
  if (doc) for (const r of all) for (let c: CRule | undefined = r; c; c = c.else) c.docAnnotation = doc;
  for (const c of n.children.values()) linkDocAnnotations(c);
}

/** Rules of a kind other than object cannot have rules below their path. */
export function checkKinds(n: RuleNode, errors: RegoErrorDetail[]): void {
  if (n.hasRules() && n.kind !== 'object') {
    for (const c of n.children.values()) {
      if (c.hasRules() || c.children.size) {
        const r = c.rules[0] ?? c.defaultRule;
        if (n.kind === 'func' || n.kind === 'set' || n.kind === 'complete') {
          errors.push(err('rego_type_error', `rule data.${n.path.join('.')} conflicts with [data.${c.path.join('.')}]`, (r ?? n.rules[0])?.loc));
        }
      }
    }
  }
  for (const c of n.children.values()) checkKinds(c, errors);
}
