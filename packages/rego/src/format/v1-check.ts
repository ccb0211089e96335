/**
 * What `opa fmt --rego-v1` refuses before rewriting a v0 module (OPA's ast.CheckRegoV1 with the keyword checks
 * off, since the rewrite adds `if` and `contains`): duplicate imports, rules, arguments and assigned variables
 * named like a root document, and deprecated builtins.
 */
import type { Body, Expr, Module, Rule, Term } from '../ast.js';
import { DEPRECATED_BUILTINS, ROOT_DOCUMENTS } from '../compiler/resolve.js';
import { visitBody, visitTerm } from '../compiler/visit.js';
import type { RegoErrorDetail } from '../errors.js';

export function checkRegoV1(mod: Module): RegoErrorDetail[] {
  const errors: RegoErrorDetail[] = [];
  const seen = new Map<string, string>();
  for (const imp of mod.imports) {
    const text = pathText(imp.path);
    const name = imp.alias ?? text.split('.').pop()!;
    const prev = seen.get(name);
    if (prev !== undefined) errors.push({ code: 'rego_compile_error', message: `import must not shadow import ${prev}`, location: imp.loc });
    else seen.set(name, `${text}${imp.alias ? ` as ${imp.alias}` : ''}`);
  }
  for (const rule of mod.rules) {
    const name = rule.head.ref[0];
    if (name.t === 'scalar' && ROOT_DOCUMENTS.has(name.v as string)) {
      errors.push({ code: 'rego_compile_error', message: `rules must not shadow ${name.v} (use a different rule name)`, location: rule.loc });
    }
    for (let r: Rule | undefined = rule; r; r = r.else) {
      for (const e of exprsOf(r.body, new Set())) {
        if (e.k === 'assign' && e.a.t === 'var' && ROOT_DOCUMENTS.has(e.a.name)) {
          errors.push({ code: 'rego_compile_error', message: `variables must not shadow ${e.a.name} (use a different variable name)`, location: e.loc });
        }
      }
      const calls = (t: Term) => {
        if (t.t === 'call' && DEPRECATED_BUILTINS.has(t.op)) {
          errors.push({ code: 'rego_type_error', message: `deprecated built-in function calls in expression: ${t.op}`, location: t.loc });
        }
      };
      visitBody(r.body, calls);
      for (const t of [r.head.value, r.head.key, ...r.head.ref].filter((x): x is Term => x !== undefined)) visitTerm(t, calls);
    }
  }
  return errors;
}

/** Every expression of a body, those of nested comprehensions and `every` bodies included. */
function exprsOf(body: Body, out: Set<Expr>): Set<Expr> {
  for (const e of body) {
    if (out.has(e)) continue;
    out.add(e);
    if (e.k === 'every') exprsOf(e.body, out);
  }
  visitBody(body, (t) => {
    if (t.t === 'arraycomp' || t.t === 'setcomp' || t.t === 'objcomp') exprsOf(t.body, out);
  });
  return out;
}

/** Dotted text of an import path. */
export function pathText(t: Term): string {
  if (t.t === 'var') return t.name;
  if (t.t !== 'ref' || t.head.t !== 'var') return '';
  return [t.head.name, ...t.path.map((p) => String((p as { v: unknown }).v))].join('.');
}
