export { compile, type Budget, type CompileOptions, type EvalResult, type Policy, type PreparedQuery } from './policy.js';
export { RegoError, BudgetExceededError, type RegoErrorDetail, type Location } from './errors.js';
export { parseModule, parseQuery, type RegoVersion } from './parser.js';
export { BuiltinError, type BuiltinContext, type BuiltinDef, type HostHooks } from './builtins/registry.js';
export { registerBuiltin } from './host-builtins.js';
export * from './value.js';
export {
  buildBundle, readBundle, compileBundle, BundleError,
  type Bundle, type Manifest, type BuildOptions, type SigningOptions, type ReadOptions, type VerificationOptions, type VerificationKey,
} from './bundle/bundle.js';
export { BundlePoller, LONG_POLLING_CONTENT_TYPE, type BundlePollerOptions, type BundleStatus } from './bundle/poller.js';
export { SIGNING_ALGORITHMS, type SigningAlgorithm } from './bundle/jws.js';
export { runTests, type TestOutcome } from './tester.js';
