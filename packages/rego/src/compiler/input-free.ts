/**
 * Input-free analysis: rules whose value is the same in every query of a compiled policy, so the evaluator can
 * compute them once and share the value.
 */
import type { Body, Term } from '../ast.js';
import { isHostBuiltin } from '../host-builtins.js';
import type { RuleDeps } from './deps.js';
import type { CRule, RuleNode } from './rule-tree.js';

/**
 * Sets `inputFree` on the rule nodes whose rules (and every rule they reach) read no `input`, contain no `with`,
 * call no nondeterministic or host-registered builtin, no `print` and no `rego.metadata.*`, and reach `data` only
 * through references (whose targets are in `deps`), never as a whole.
 */
export function markInputFree(nodes: RuleNode[], deps: RuleDeps): void {
  const own = new Map<RuleNode, boolean>();
  for (const n of nodes) {
    let free = true;
    const term = (t: Term): void => {
      switch (t.t) {
        case 'var': if (t.slot === undefined && (t.name === 'input' || t.name === 'data')) free = false; break;
        case 'ref':
          if (!(t.head.t === 'var' && t.head.slot === undefined && t.head.name === 'data')) term(t.head);
          t.path.forEach(term);
          break;
        case 'array': case 'set': t.items.forEach(term); break;
        case 'object': t.items.forEach(([k, v]) => { term(k); term(v); }); break;
        case 'call':
          // print and rego.metadata.* have no builtin definition here
          if (!t.op.startsWith('data.') && (!t.builtin || t.builtin.nondeterministic || isHostBuiltin(t.op))) free = false;
          t.args.forEach(term);
          break;
        case 'arraycomp': case 'setcomp': term(t.head); body(t.body); break;
        case 'objcomp': term(t.key); term(t.value); body(t.body); break;
        case 'template': t.parts.forEach((p) => typeof p !== 'string' && term(p)); break;
        case 'withterm': free = false; break;
      }
    };
    const body = (b: Body): void => {
      for (const e of b) {
        if (e.with.length) free = false;
        switch (e.k) {
          case 'term': term(e.term); break;
          case 'unify': case 'assign': term(e.a); term(e.b); break;
          case 'some': break;
          case 'somein': if (e.key) term(e.key); term(e.value); term(e.coll); break;
          case 'every': if (e.key) term(e.key); term(e.value); term(e.coll); body(e.body); break;
        }
      }
    };
    for (const first of [...n.rules, ...(n.defaultRule ? [n.defaultRule] : [])]) {
      for (let r: CRule | undefined = first; r; r = r.else) {
        [...r.keys, r.value, ...(r.member ? [r.member] : []), ...(r.args ?? [])].forEach(term);
        body(r.body);
      }
    }
    // a node with children merges their documents into its value: not worth following
    own.set(n, free && n.children.size === 0);
  }
  // the rule graph has no cycles here (checkRecursion ran first)
  const done = new Map<RuleNode, boolean>();
  const free = (n: RuleNode): boolean => {
    let f = done.get(n);
    if (f === undefined) {
      f = own.get(n) ?? false;
      for (const d of deps.get(n) ?? []) if (f) f = free(d);
      done.set(n, f);
    }
    return f;
  };
  for (const n of nodes) n.inputFree = free(n);
}
