/**
 * The order in which plug-ins' hooks run is declared data: each plug-in names the plug-ins that must run before
 * it (`after`). The order is resolved once, when the gate is built, and a missing name or a cycle is a start-up
 * error — never a silent change of behaviour because someone reordered a list.
 */
import type { NamedHooks } from './hooks.js';

/** Registration order, except where `after` constraints say otherwise (a stable topological sort). */
export function orderHooks(plugins: readonly NamedHooks[]): NamedHooks[] {
  const byName = new Map<string, NamedHooks>();
  for (const p of plugins) {
    if (byName.has(p.name)) throw new Error(`gatekeeper plug-in "${p.name}" is registered twice`);
    byName.set(p.name, p);
  }
  for (const p of plugins) {
    for (const before of p.after ?? []) {
      if (!byName.has(before)) throw new Error(`gatekeeper plug-in "${p.name}" must run after "${before}", which is not registered`);
    }
  }
  const placed = new Set<string>();
  const out: NamedHooks[] = [];
  while (out.length < plugins.length) {
    const next = plugins.find((p) => !placed.has(p.name) && (p.after ?? []).every((b) => placed.has(b)));
    if (!next) {
      const stuck = plugins.filter((p) => !placed.has(p.name)).map((p) => p.name);
      throw new Error(`gatekeeper plug-ins ${stuck.join(', ')} have a cycle in their "after" constraints`);
    }
    placed.add(next.name);
    out.push(next);
  }
  return out;
}
