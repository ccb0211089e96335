/**
 * The builtin contract. Every family file exports `builtins: BuiltinTable`; index.ts merges them.
 *
 * TypeSpec grammar (strings, so tables stay plain data):
 *   spec  := alt ('|' alt)*
 *   alt   := 'any' | 'null' | 'boolean' | 'number' | 'string'
 *          | 'array' | 'array[' spec ']'
 *          | 'set'   | 'set[' spec ']'
 *          | 'object'| 'object[' spec ':' spec ']'
 * Examples: 'string', 'number|string', 'array[string]|set[string]', 'object[string:any]'.
 *
 * The evaluator checks the TOP-LEVEL kind of each argument against `args` (and `variadic`) before
 * calling `fn`, raising eval_type_error "<name>: operand <i> must be <kind> but got <kind>"
 * ("must be one of {a, b}" for unions, kinds listed in spec order). Element types inside
 * array[...]/set[...]/object[...] are documentation: a family that needs them checks and throws
 * OperandTypeError with OPA's exact text (e.g. "operand 1 must be array of strings but got array
 * containing number"); the evaluator prefixes "<name>: ".
 */
import type { Value } from '../value.js';

/** A builtin failed on valid-typed input → eval_builtin_error (undefined result unless strict). */
export class BuiltinError extends Error {}

/** Wrong operand type found by the builtin itself → eval_type_error (always raised). */
export class OperandTypeError extends Error {}

export interface HostHooks {
  /**
   * http.send. The evaluator is synchronous: a hook returning a Promise is only usable when the
   * host has already settled it (e.g. a cache keyed by request); http.send reports an error otherwise.
   */
  httpSend?(req: Value): Promise<Value> | Value;
  lookupIpAddr?(name: string): string[];
  runtime?(): Value;
}

export interface BuiltinContext {
  /** strict builtin errors: BuiltinError is raised instead of making the call undefined */
  strict: boolean;
  /** nanoseconds since the epoch, fixed for one query */
  now(): bigint;
  env: Record<string, string | undefined>;
  host: HostHooks;
  /** per-query cache (e.g. parsed regexes, http.send responses) */
  cache: Map<string, unknown>;
  print(msg: string): void;
}

export type TypeSpec = string;

export interface BuiltinDef {
  name: string;
  args: TypeSpec[];
  result: TypeSpec;
  variadic?: TypeSpec;
  nondeterministic?: boolean;
  /** relation (e.g. walk): `fn` returns an array of outputs, each a separate solution */
  relation?: boolean;
  /** Return undefined for an undefined result; throw BuiltinError / OperandTypeError for errors. */
  fn(args: Value[], ctx: BuiltinContext): Value | undefined;
  /**
   * `fn` of two operands that admit any value, as a function that never fails: the evaluator calls it without
   * making an argument list (the comparison operators and `in`, the commonest calls in a rule body).
   */
  binary?: (a: Value, b: Value) => Value;
}

export type BuiltinTable = Record<string, BuiltinDef>;

/** The kinds a builtin's arguments admit (undefined: any), and the same as bit masks for the evaluator (0: any). */
export interface ArgKinds {
  args: (string[] | undefined)[];
  variadic?: string[];
  masks: number[];
  variadicMask: number;
}

/** Top-level kinds a spec admits, in spec order ('any' admits everything). */
export function specKinds(spec: TypeSpec): string[] {
  const kinds: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= spec.length; i++) {
    const c = spec[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if ((c === '|' && depth === 0) || i === spec.length) {
      const alt = spec.slice(start, i).trim();
      const br = alt.indexOf('[');
      kinds.push(br < 0 ? alt : alt.slice(0, br));
      start = i + 1;
    }
  }
  return kinds;
}

/** Human text of a spec's kinds, as OPA writes it in operand errors. */
export function describeKinds(kinds: string[]): string {
  return kinds.length === 1 ? kinds[0] : `one of {${kinds.join(', ')}}`;
}
