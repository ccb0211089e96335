/**
 * The dependency graph between rule nodes (through data references and calls), and the recursion check on it
 * (OPA's checkRecursion stage).
 */
import type { Term } from '../ast.js';
import type { RegoErrorDetail } from '../errors.js';
import { err } from './errors.js';
import type { CRule, RuleNode } from './rule-tree.js';
import { visitRule } from './visit.js';

export type RuleDeps = Map<RuleNode, Set<RuleNode>>;

/** The nodes that hold rules, and the rule nodes each one's rules reach through data refs and calls. */
export function ruleDeps(root: RuleNode): { nodes: RuleNode[]; deps: RuleDeps } {
  const deps = new Map<RuleNode, Set<RuleNode>>();
  const nodes: RuleNode[] = [];
  const walkNodes = (n: RuleNode) => { if (n.hasRules()) nodes.push(n); for (const c of n.children.values()) walkNodes(c); };
  walkNodes(root);
  // rules a data ref can reach: ground keys pick a child, anything else matches every child
  const targets = (path: (string | undefined)[], out: Set<RuleNode>, n: RuleNode = root, i = 0): void => {
    if (n.hasRules()) { out.add(n); return; }
    if (i === path.length) {
      const all = (m: RuleNode) => { if (m.hasRules()) out.add(m); for (const c of m.children.values()) all(c); };
      all(n);
      return;
    }
    const key = path[i];
    if (key !== undefined) { const c = n.children.get(key); if (c) targets(path, out, c, i + 1); return; }
    for (const c of n.children.values()) targets(path, out, c, i + 1);
  };
  for (const n of nodes) {
    const out = new Set<RuleNode>();
    for (const first of [...n.rules, ...(n.defaultRule ? [n.defaultRule] : [])]) {
      for (let r: CRule | undefined = first; r; r = r.else) visitRule(r, (t) => {
        if (t.t === 'ref' && t.head.t === 'var' && t.head.name === 'data') targets(refKeys(t.path), out);
        else if (t.t === 'call' && t.op.startsWith('data.')) targets(t.op.split('.').slice(1), out);
      });
    }
    deps.set(n, out);
  }
  return { nodes, deps };
}

/** Rules that depend on themselves through data refs or calls (rego_recursion_error). */
export function checkRecursion(nodes: RuleNode[], deps: RuleDeps, errors: RegoErrorDetail[]): void {
  const state = new Map<RuleNode, number>();
  const stack: RuleNode[] = [];
  const visit = (n: RuleNode): boolean => {
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const s = state.get(d);
      if (s === 1) {
        const cyc = stack.slice(stack.indexOf(d)).map((x) => `data.${x.path.join('.')}`);
        const r = d.rules[0] ?? d.defaultRule!;
        errors.push(err('rego_recursion_error', `rule data.${d.path.join('.')} is recursive: ${[...cyc, cyc[0]].join(' -> ')}`, r.loc));
        return true;
      }
      if (!s && visit(d)) return true;
    }
    stack.pop();
    state.set(n, 2);
    return false;
  };
  for (const n of nodes) if (!state.get(n) && visit(n)) return;
}

function refKeys(path: Term[]): (string | undefined)[] {
  return path.map((p) => ((p.t === 'scalar' || p.t === 'const') && (typeof p.v === 'string' || typeof p.v === 'number') ? String(p.v) : undefined));
}
