/** Public API of @oagf/gatekeeper. */
export * from './spec/index.js';
export { specFiles } from './spec/json-schema.js';
export { GatekeeperConfig, type AgentConfig, type AmountLocation, type ApiConfig, type LlmConfig, type LlmUpstream } from './config/schema.js';
export { ConfigError, loadConfigFile, parseConfig, type ConfigProblem, type LoadedConfig } from './config/load.js';
export {
  createGate,
  evaluate,
  faultDecision,
  findAmount,
  orderHooks,
  refusalOf,
  type ActionAttempt,
  type Admission,
  type EscalationResult,
  type Executed,
  type Execute,
  type ExecutionContext,
  type Gate,
  type GateHooks,
  type GateOptions,
  type GateOutcome,
  type NamedHooks,
  type RecordAdditions,
  type Refusal,
  type RefusalKind,
  type Reservation,
  type RunResult,
  type Settlement,
  type Surface,
} from './gate/index.js';
export type { DecisionLog, DecisionRecord, GateRecord, OutcomeRecord, RecordLink } from './stores/ledger.js';
export type { ApprovalQuery, ApprovalStore } from './stores/approvals.js';
export type { SessionStore, StoredSession } from './stores/sessions.js';
export type { EntryUpdate, ResultLabel, ResultPrint, SessionEntry, SessionHistoryLimits, SessionHistoryStore } from './stores/session-history.js';
export type { Notice, Notifier } from './stores/notifier.js';
export { MemoryNotifier } from './stores/memory/notifier.js';
export { SqliteApprovalStore } from './stores/sqlite/approvals.js';
export { SqliteSessionStore } from './stores/sqlite/sessions.js';
export { SqliteSessionHistoryStore } from './stores/sqlite/session-history.js';
export { sessionHooks, sessionKey } from './sessions/hooks.js';
export { digestOf } from './digest.js';
export { buildServer, MODULES, SURFACES, type BuildOptions, type Gatekeeper } from './server.js';
export { PostgresStorage } from './stores/postgres/storage.js';
export type { CoreDeps, GatekeeperModule, ModuleParts, SurfaceDeps, SurfaceModule } from './surface.js';
export { Router, readBody, readJson, parseJson, sendJson, validate, respondError, type Handler, type RouteContext } from './http/router.js';
export { GateHttpError, refusalError, statusOf, type ErrorKind } from './http/errors.js';
export { attemptOf, beginAttempt, type AttemptBase } from './http/attempt.js';
export { UpstreamClient, UpstreamError, type UpstreamRequest, type UpstreamResponse, type UpstreamTarget } from './upstream/index.js';
export { parseStrictJson, StrictJsonError, DEFAULT_JSON_LIMITS, type JsonLimits } from './json/strict.js';
export { canonicalPath, encodePath, encodeQuery, parseQuery, CanonicalError } from './http/canonical.js';
export { createAuthenticator, hashApiKey, type Authenticator, type AuthResult } from './auth/agents.js';
export { PolicyEvalError, staticSource, type PolicyEvaluation, type PolicyEvaluator, type PolicySource } from './policy/engine.js';
export { readBundle, BundleError, type BundleFiles } from './policy/bundle.js';
export { compileBundle, ENTRYPOINT, type EvalLimits } from './policy/rego.js';
export { WatchedBundle } from './policy/source.js';
export { BundleServerSource } from './policy/bundle-server.js';
export { runPolicyTests, type TestResult } from './policy/testing.js';
export { replay, formatReplay, type ReplayReport } from './replay/replay.js';
export { Metrics } from './metrics.js';
export * from './budgets/index.js';
export * from './surfaces/openai/index.js';
export { anthropicSurface, anthropicErrorBody } from './surfaces/anthropic/index.js';
export { approvalsModule, type ApprovalsModuleOptions } from './approvals/module.js';
export { ApprovalService, describeRequirement, type ApprovalEvents, type ApprovalServiceOptions, type Escalation } from './approvals/service.js';
export { hashPassword, verifyPassword } from './approvals/accounts.js';
export { ApprovalSigner, verifyVerdict, type VerdictStatement } from './approvals/signing.js';
export { Redactor } from './redact.js';
export { TraceRecorder, type ReasoningTrace, type TraceStep } from './approvals/trace.js';
export { ApprovalsConfig, parseApprovalsConfig } from './approvals/config.js';
export { approvalsCommand } from './approvals/cli.js';
export { runDemo, demoCommand, type DemoRunOptions, type DemoOutcome } from './demo/run.js';
export { startDemo, type DemoOptions, type DemoWorld } from './demo/world.js';
