export { compile, type Budget, type CompileOptions, type EvalResult, type Policy, type PreparedQuery } from './policy.js';
export { RegoError, BudgetExceededError, type RegoErrorDetail, type Location } from './errors.js';
export { parseModule, parseQuery, type RegoVersion } from './parser.js';
export type { HostHooks } from './builtins/registry.js';
export * from './value.js';
