/** Rego abstract syntax tree, as produced by the parser and annotated by the compiler. */
import type { Location } from './errors.js';
import type { ArgKinds, BuiltinDef } from './builtins/registry.js';
import type { Value } from './value.js';
import type { RuleNode } from './compiler/rule-tree.js';

/**
 * The evaluator's memo of where the ground prefix of a `data` reference leads (a term belongs to one compiled
 * policy, so to one rule tree and one base document): `path[0..i)` reaches `node` (undefined past the rules)
 * and the base data `base` there.
 */
export interface DataWalk {
  i: number;
  node: RuleNode | undefined;
  base: Value | undefined;
}

export type Term =
  | { t: 'scalar'; v: Value; loc: Location }
  | { t: 'var'; name: string; loc: Location; slot?: number }
  | { t: 'ref'; head: Term; path: Term[]; loc: Location; walk?: DataWalk }
  | { t: 'array'; items: Term[]; loc: Location }
  | { t: 'set'; items: Term[]; loc: Location }
  | { t: 'object'; items: [Term, Term][]; loc: Location }
  /** `fn`: the evaluator's memo of the user function a `data.` call names (null: none) */
  /** `literalArg`: of `a == b`, the argument that `isLiteral` (compiler/shape.ts) holds, compared member by member */
  | { t: 'call'; op: string; args: Term[]; loc: Location; builtin?: BuiltinDef; fn?: RuleNode | null; literalArg?: number; kinds?: ArgKinds }
  | { t: 'arraycomp'; head: Term; body: Body; loc: Location }
  | { t: 'setcomp'; head: Term; body: Body; loc: Location }
  | { t: 'objcomp'; key: Term; value: Term; body: Body; loc: Location }
  | { t: 'template'; parts: (string | Term)[]; loc: Location }
  /** `term with ... as ...` inside a template string expression */
  | { t: 'withterm'; term: Term; with: With[]; loc: Location }
  /** compiled constant (ground composite literal) */
  | { t: 'const'; v: Value; loc: Location };

export interface With {
  target: Term;
  value: Term;
  loc: Location;
}

export type ExprKind =
  | { k: 'term'; term: Term }
  /** `callOut`: written `f(x, out)` (a call with an output argument), compiled as `out = f(x)` */
  | { k: 'unify'; a: Term; b: Term; callOut?: boolean }
  | { k: 'assign'; a: Term; b: Term }
  | { k: 'some'; vars: Term[] }
  | { k: 'somein'; key?: Term; value: Term; coll: Term }
  | { k: 'every'; key?: Term; value: Term; coll: Term; body: Body };

export type Expr = ExprKind & { negated: boolean; with: With[]; loc: Location };

export type Body = Expr[];

export interface RuleHead {
  /** rule reference relative to the package: first element is the name */
  ref: Term[];
  args?: Term[];
  /** `contains` member (partial set) */
  key?: Term;
  value?: Term;
  assign: boolean;
}

export interface Rule {
  head: RuleHead;
  body: Body;
  isDefault: boolean;
  else?: Rule;
  loc: Location;
  annotations?: Annotations;
  /** source text of the rule (for error messages / explain) */
  module: Module;
}

export interface Import {
  path: Term;
  alias?: string;
  loc: Location;
}

export interface Annotations {
  scope: string;
  data: Record<string, unknown>;
  loc: Location;
}

export interface Module {
  file: string;
  package: string[];
  packageLoc: Location;
  imports: Import[];
  rules: Rule[];
  annotations: Annotations[];
  regoV1: boolean;
}
