// Shared helpers for the builtins-b* tests: call a builtin's fn directly with a fixed context.
import { BUILTINS, type BuiltinContext, type HostHooks } from '../src/builtins/index.js';
import { fromJSON, type Value } from '../src/value.js';

export function ctx(over: Partial<BuiltinContext> = {}, host: HostHooks = {}): BuiltinContext {
  return {
    strict: true,
    now: () => 1_700_000_000_123_456_789n,
    env: {},
    host,
    cache: new Map(),
    print: () => {},
    ...over,
  };
}

export function call(name: string, args: unknown[], c: BuiltinContext = ctx()): Value | undefined {
  const def = BUILTINS[name];
  if (!def) throw new Error(`no builtin ${name}`);
  return def.fn(args.map((a) => (isValueLike(a) ? (a as Value) : fromJSON(a))), c);
}

function isValueLike(a: unknown): boolean {
  return typeof a === 'bigint' || (typeof a === 'object' && a !== null && a.constructor?.name !== 'Object' && !Array.isArray(a));
}
