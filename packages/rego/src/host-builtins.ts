/**
 * Host-defined builtins, registered process-wide as with OPA's rego.RegisterBuiltin: policy libraries written
 * for another host (e.g. Trivy's `result.new`) call functions that are not part of OPA.
 */
import { BUILTINS } from './builtins/index.js';
import type { BuiltinDef } from './builtins/registry.js';

const registered = new Set<string>();

/** Registered by the host: its determinism is unknown, so its results are never shared between queries. */
export function isHostBuiltin(name: string): boolean {
  return registered.has(name);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Adds a builtin for every policy compiled afterwards. Names of existing builtins cannot be replaced. */
export function registerBuiltin(def: BuiltinDef): void {
  if (!NAME.test(def.name)) throw new Error(`registerBuiltin: invalid name ${JSON.stringify(def.name)} (want dotted identifiers, e.g. result.new)`);
  if (Object.hasOwn(BUILTINS, def.name)) throw new Error(`registerBuiltin: ${def.name} is already a builtin`);
  if (typeof def.fn !== 'function') throw new Error(`registerBuiltin: ${def.name} needs fn`);
  BUILTINS[def.name] = def;
  registered.add(def.name);
}
