/**
 * What a surface module gets when the server is built. Surface modules export
 *   registerRoutes(router: Router, deps: SurfaceDeps): void
 * and plug-in modules (budgets, approvals) a `GatekeeperModule` (server.ts) whose setup returns gate hooks,
 * routes and a close function.
 */
import type { Ledger } from '@oagf/ledger';
import type { Authenticator } from './auth/agents.js';
import type { GatekeeperConfig } from './config/schema.js';
import type { Gate, GateHooks } from './gate.js';
import type { Router } from './http/router.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { PolicySource } from './policy/engine.js';

export interface CoreDeps {
  config: GatekeeperConfig;
  /** Directory of gatekeeper.yaml: resolve relative paths in plug-in sections against it. */
  configDir: string;
  logger: Logger;
  metrics: Metrics;
  /** The open ledger; undefined when the server was built with another DecisionLog (tests). */
  ledger?: Ledger;
  policy: PolicySource;
  clock: () => Date;
}

export interface SurfaceDeps extends CoreDeps {
  gate: Gate;
  auth: Authenticator;
}

export interface ModuleParts {
  hooks?: GateHooks;
  routes?(router: Router, deps: SurfaceDeps): void;
  /** Readiness problem, if any (shown by /readyz). */
  notReady?(): string | undefined;
  close?(): Promise<void> | void;
}

export interface GatekeeperModule {
  name: string;
  setup(deps: CoreDeps): ModuleParts | Promise<ModuleParts>;
}
