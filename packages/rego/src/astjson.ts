/** OPA's JSON form of a parsed module (what rego.parse_module returns). */
import type { Body, Expr, Module, Rule, Term } from './ast.js';
import { fromJSON, typeName, type Value } from './value.js';

type J = Record<string, unknown>;

function termJSON(t: Term): J {
  switch (t.t) {
    case 'scalar': case 'const':
      return t.t === 'const' ? constJSON(t.v) : { type: typeName(t.v), value: t.v };
    case 'var': return { type: 'var', value: t.name };
    case 'ref': return { type: 'ref', value: [termJSON(t.head), ...t.path.map(termJSON)] };
    case 'array': return { type: 'array', value: t.items.map(termJSON) };
    case 'set': return { type: 'set', value: t.items.map(termJSON) };
    case 'object': return { type: 'object', value: t.items.map(([k, v]) => [termJSON(k), termJSON(v)]) };
    case 'call': return { type: 'call', value: [opJSON(t.op), ...t.args.map(termJSON)] };
    case 'arraycomp': return { type: 'arraycomprehension', value: { term: termJSON(t.head), body: bodyJSON(t.body) } };
    case 'setcomp': return { type: 'setcomprehension', value: { term: termJSON(t.head), body: bodyJSON(t.body) } };
    case 'objcomp': return { type: 'objectcomprehension', value: { key: termJSON(t.key), value: termJSON(t.value), body: bodyJSON(t.body) } };
    case 'withterm': return { ...termJSON(t.term), with: t.with.map((w) => ({ target: termJSON(w.target), value: termJSON(w.value) })) };
    case 'template': return { type: 'templatestring', value: t.parts.map((p) => (typeof p === 'string' ? { type: 'string', value: p } : termJSON(p))) };
  }
}

function constJSON(v: Value): J {
  return { type: typeName(v), value: v };
}

function opJSON(op: string): J {
  const [head, ...rest] = op.split('.');
  return { type: 'ref', value: [{ type: 'var', value: head }, ...rest.map((s) => ({ type: 'string', value: s }))] };
}

function exprJSON(e: Expr, index: number): J {
  let terms: unknown;
  switch (e.k) {
    case 'term': terms = e.term.t === 'call' ? [opJSON(e.term.op), ...e.term.args.map(termJSON)] : termJSON(e.term); break;
    case 'unify': terms = [opJSON('eq'), termJSON(e.a), termJSON(e.b)]; break;
    case 'assign': terms = [opJSON('assign'), termJSON(e.a), termJSON(e.b)]; break;
    case 'some': terms = { symbols: e.vars.map(termJSON) }; break;
    case 'somein': terms = { symbols: [{ type: 'call', value: [opJSON(e.key ? 'internal.member_3' : 'internal.member_2'), ...(e.key ? [termJSON(e.key)] : []), termJSON(e.value), termJSON(e.coll)] }] }; break;
    case 'every': terms = { key: e.key ? termJSON(e.key) : null, value: termJSON(e.value), domain: termJSON(e.coll), body: bodyJSON(e.body) }; break;
  }
  const out: J = { index, terms };
  if (e.negated) out.negated = true;
  if (e.with.length) out.with = e.with.map((w) => ({ target: termJSON(w.target), value: termJSON(w.value) }));
  return out;
}

function bodyJSON(b: Body): J[] {
  return b.map(exprJSON);
}

function ruleJSON(r: Rule): J {
  const h = r.head;
  const head: J = { name: h.ref.map((t) => (t.t === 'scalar' ? String(t.v) : '')).filter(Boolean)[0], ref: h.ref.map((t, i) => (i === 0 && t.t === 'scalar' ? { type: 'var', value: t.v } : termJSON(t))) };
  if (h.args) head.args = h.args.map(termJSON);
  if (h.key) head.key = termJSON(h.key);
  if (h.value) head.value = termJSON(h.value);
  else if (!h.key) head.value = { type: 'boolean', value: true };
  if (h.assign) head.assign = true;
  const out: J = { head, body: bodyJSON(r.body) };
  if (r.isDefault) out.default = true;
  if (r.else) out.else = ruleJSON(r.else);
  return out;
}

export function moduleJSON(m: Module): Value {
  const pkg = m.package.map((s, i) => (i === 0 ? { type: 'var', value: s } : { type: 'string', value: s }));
  const out: J = { package: { path: pkg } };
  if (m.imports.length) out.imports = m.imports.map((i) => ({ path: termJSON(i.path), ...(i.alias ? { alias: i.alias } : {}) }));
  if (m.rules.length) out.rules = m.rules.map(ruleJSON);
  return fromJSON(out);
}
