/** graph.reachable and graph.reachable_paths (OPA topdown/reachable.go). */
import { isArray, isSet, jsonText, makeSet, type RObject, type Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { obj, typeErr } from './operands.js';

/** Path enumeration is exponential in the worst case; beyond this many paths the call fails. */
const MAX_PATHS = 100_000;

function vertices(v: Value | undefined): Value[] {
  if (v === undefined) return [];
  if (isArray(v)) return v;
  if (isSet(v)) return v.values();
  return [];
}

function initial(v: Value): Value[] {
  if (!isArray(v) && !isSet(v)) throw typeErr(2, v, '{array, set}');
  return vertices(v);
}

function reachable(graph: RObject, start: Value[]): Value {
  const reached = makeSet([]);
  const queue = [...start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    const edges = graph.get(node);
    if (edges === undefined) continue;
    for (const n of vertices(edges)) if (!reached.has(n)) queue.push(n);
    reached.add(node);
  }
  return reached;
}

function reachablePaths(graph: RObject, start: Value[]): Value {
  const paths = new Map<string, Value[]>();
  const commit = (p: Value[]): void => {
    paths.set(jsonText(p), p);
    if (paths.size > MAX_PATHS) throw new BuiltinError(`graph.reachable_paths: more than ${MAX_PATHS} paths`);
  };
  const build = (root: Value, path: Value[], reached: Set<string>): void => {
    const edges = graph.get(root);
    if (edges === undefined) { commit(path); return; }
    const here = [...path, root];
    const next = vertices(edges);
    if (next.length === 0) { commit(here); return; }
    // one visited set shared by the whole walk from a start edge, as OPA 1.6 does
    reached.add(jsonText(root));
    for (const n of next) {
      if (reached.has(jsonText(n))) commit(here);
      else build(n, here, reached);
    }
  };
  for (const node of start) {
    const edges = graph.get(node);
    if (edges === undefined) continue;
    const next = vertices(edges);
    if (next.length === 0) commit([node]);
    else for (const n of next) build(n, [node], new Set([jsonText(node)]));
  }
  return makeSet(paths.values());
}

export const builtins: BuiltinTable = {
  'graph.reachable': {
    name: 'graph.reachable',
    args: ['object[any:set|array]', 'set|array'],
    result: 'set',
    fn: ([g, i]) => reachable(obj(g, 1), initial(i)),
  },
  'graph.reachable_paths': {
    name: 'graph.reachable_paths',
    args: ['object[any:set|array]', 'set|array'],
    result: 'set[array]',
    fn: ([g, i]) => reachablePaths(obj(g, 1), initial(i)),
  },
};
