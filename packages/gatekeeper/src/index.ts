/** Public API of @oagf/gatekeeper. */
export * from './spec/index.js';
export { specFiles } from './spec/json-schema.js';
export { GatekeeperConfig, type AgentConfig, type AmountLocation, type ApiConfig, type LlmConfig, type LlmUpstream } from './config/schema.js';
export { ConfigError, loadConfigFile, parseConfig, type ConfigProblem, type LoadedConfig } from './config/load.js';
export {
  createGate,
  evaluate,
  faultDecision,
  type ActionAttempt,
  type Gate,
  type GateHooks,
  type GateOptions,
  type GateOutcome,
  type PendingRecord,
  type Reservation,
  type Surface,
} from './gate.js';
export type { DecisionLog, DecisionRecord, RecordLink } from './decision-log.js';
export { digestOf } from './digest.js';
export { buildServer, MODULES, type BuildOptions, type Gatekeeper } from './server.js';
export type { CoreDeps, GatekeeperModule, ModuleParts, SurfaceDeps } from './surface.js';
export { Router, readBody, readJson, parseJson, sendJson, validate, respondError, type Handler, type RouteContext } from './http/router.js';
export { GateHttpError, statusOf, type ErrorKind } from './http/errors.js';
export { attemptOf, beginAttempt, finalDecision, refusalOf, type AttemptBase } from './http/attempt.js';
export { createAuthenticator, hashApiKey, type Authenticator, type AuthResult } from './auth/agents.js';
export { PolicyEvalError, staticSource, type PolicyEvaluation, type PolicyEvaluator, type PolicySource } from './policy/engine.js';
export { readBundle, BundleError, type BundleFiles } from './policy/bundle.js';
export { compileBundle, ENTRYPOINT, type EvalLimits } from './policy/rego.js';
export { WatchedBundle } from './policy/source.js';
export { runPolicyTests, type TestResult } from './policy/testing.js';
export { replay, formatReplay, type ReplayReport } from './replay/replay.js';
export { findAmount } from './amounts.js';
export { Metrics } from './metrics.js';
export * from './budgets/index.js';
export * from './openai/index.js';
export { approvalsModule, type ApprovalsModuleOptions } from './approvals/module.js';
export { ApprovalService, describeRequirement, type ApprovalEvents, type ApprovalServiceOptions, type Escalation } from './approvals/service.js';
export { SqliteApprovalStore, type ApprovalQuery, type ApprovalStore } from './approvals/store.js';
export { hashPassword, verifyPassword } from './approvals/accounts.js';
export { ApprovalSigner, verifyVerdict, type VerdictStatement } from './approvals/signing.js';
export { Redactor } from './approvals/redact.js';
export { TraceRecorder, type ReasoningTrace, type TraceStep } from './approvals/trace.js';
export { ApprovalsConfig, parseApprovalsConfig } from './approvals/config.js';
export { approvalsCommand } from './approvals/cli.js';
export { runDemo, demoCommand, type DemoRunOptions, type DemoOutcome } from './demo/run.js';
export { startDemo, type DemoOptions, type DemoWorld } from './demo/world.js';
