/**
 * Safety analysis and body ordering (OPA's checkSafetyRuleBodies / reorderBodyForSafety): every expression runs
 * after the expressions that bind the variables it needs; variables nothing can bind are reported as unsafe.
 */
import type { Body, Expr, Term } from '../ast.js';
import type { RegoErrorDetail } from '../errors.js';
import { equal } from '../value.js';
import { err } from './errors.js';
import { groundValue, isGround } from './ground.js';
import { FREE, visitBody, type Closure } from './visit.js';

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


function analyze(e: Expr, bound: Set<number>): Analysis | undefined {
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
    // a negated expression binds nothing: its vars (`_` included, as in OPA) must be bound by other expressions
    for (const b of r.binds) r.needs.add(b);
    r.binds = new Set();
  }
  for (const n of r.needs) if (!bound.has(n) && !r.binds.has(n)) return undefined;
  return r;
}

/** Orders a body so that every expression's inputs are bound first; reports unsafe vars. */
export function orderBody(body: Body, bound: Set<number>, errors: RegoErrorDetail[]): Body {
  // vars used by each expression: needed only for error messages, so computed on demand
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
      const { e } = pending[j];
      const r = analyze(e, bound);
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

