export { compile, type Budget, type CompileOptions, type EvalResult, type Policy, type PreparedQuery } from './policy.js';
export { RegoError, BudgetExceededError, type RegoErrorDetail, type Location } from './errors.js';
export { parseModule, parseQuery, type RegoVersion } from './parser.js';
export { BuiltinError, type BuiltinContext, type BuiltinDef, type HostHooks } from './builtins/registry.js';
export { registerBuiltin } from './host-builtins.js';
export * from './value.js';
