/**
 * OPA's checks on declared variables: a var declared by `some x` or by `every` must be used; in strict mode also a
 * var assigned with `:=` and a function's argument (rego_compile_error).
 */
import type { Body, Expr, Term } from '../ast.js';
import type { Location } from '../errors.js';
import type { RegoErrorDetail } from '../errors.js';
import { err } from './errors.js';
import { visitBody, visitTerm } from './visit.js';

const mentions = (slot: number, terms: Term[], body: Body): boolean => {
  let found = false;
  const f = (t: Term) => { if (t.t === 'var' && t.slot === slot) found = true; };
  for (const t of terms) visitTerm(t, f);
  if (!found) visitBody(body, f);
  return found;
};

const declared = (vars: (Term | undefined)[]): (Term & { t: 'var' })[] =>
  vars.filter((v): v is Term & { t: 'var' } => v?.t === 'var' && v.slot !== undefined && v.name !== '_');

/** `some x` declarations of a body that nothing else in it (nor `heads`) uses. */
export function checkSomeUsed(body: Body, heads: Term[], errors: RegoErrorDetail[]): void {
  body.forEach((e, i) => {
    if (e.k !== 'some') return;
    const rest = body.filter((_, j) => j !== i);
    for (const v of declared(e.vars)) if (!mentions(v.slot!, heads, rest)) errors.push(err('rego_compile_error', `declared var ${v.name} unused`, e.loc));
  });
}

/** The key and value vars of `every` must be used in its body (reported at the body's first expression). */
export function checkEveryUsed(e: Expr & { k: 'every' }, errors: RegoErrorDetail[]): void {
  for (const v of declared([e.key, e.value])) {
    if (!mentions(v.slot!, [], e.body)) errors.push(err('rego_compile_error', `declared var ${v.name} unused`, (e.body[0] ?? e).loc));
  }
}

/** Strict mode: `x := ...` whose x nothing reads, and function arguments the rule never uses. */
export function checkStrictRule(body: Body, heads: Term[], args: Term[], loc: Location, errors: RegoErrorDetail[]): void {
  body.forEach((e, i) => {
    if (e.k !== 'assign' || e.a.t !== 'var' || e.a.slot === undefined || e.a.name === '_' || e.a.name.startsWith('$')) return;
    if (!mentions(e.a.slot, [...heads, e.b], body.filter((_, j) => j !== i))) errors.push(err('rego_compile_error', `assigned var ${e.a.name} unused`, e.loc));
  });
  for (const a of declared(args)) {
    if (!mentions(a.slot!, heads, body)) errors.push(err('rego_compile_error', `unused argument ${a.name}. (hint: use _ (wildcard variable) instead)`, loc));
  }
}
