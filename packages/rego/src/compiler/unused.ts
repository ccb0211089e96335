/** OPA's check on declared variables: a var declared by `some x` or by `every` must be used (rego_compile_error). */
import type { Body, Expr, Term } from '../ast.js';
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
