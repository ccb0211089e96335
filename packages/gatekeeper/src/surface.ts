/**
 * How the gatekeeper is assembled from parts, each in its own folder:
 *
 * - **Surfaces** (`surfaces/<name>/`) read requests into actions, run them through `deps.gate.run`, and render
 *   refusals in their protocol. A surface exports a `SurfaceModule`; the server lists them in `SURFACES`.
 * - **Plug-ins** (budgets, approvals) export a `GatekeeperModule` whose setup returns gate hooks, routes, a
 *   readiness check and a close function. They run in `MODULES` order except where `after` says otherwise.
 */
import type { Ledger, WitnessedLog } from '@oagf/ledger';
import type { Authenticator } from './auth/agents.js';
import type { GatekeeperConfig } from './config/schema.js';
import type { Gate, GateHooks } from './gate/index.js';
import type { AdminRoutes } from './http/admin.js';
import type { Router } from './http/router.js';
import type { JsonLimits } from './json/strict.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { PolicySource } from './policy/engine.js';
import type { Redactor } from './redact.js';
import type { Telemetry } from './telemetry/index.js';
import type { PostgresStorage } from './stores/postgres/storage.js';
import type { Notifier } from './stores/notifier.js';
import type { SandboxService } from './surfaces/sandbox/service.js';

export interface CoreDeps {
  config: GatekeeperConfig;
  /** Directory of gatekeeper.yaml: resolve relative paths in plug-in sections against it. */
  configDir: string;
  logger: Logger;
  metrics: Metrics;
  /** The open ledger; undefined when the server was built with another DecisionLog (tests). */
  ledger?: Ledger;
  /** Its checkpoints as cosigned by `ledger.witnesses` (undefined without witnesses). */
  witnessed?: WitnessedLog;
  policy: PolicySource;
  /** With `storage.postgres`: the shared database every store is opened on (plug-ins take their stores from it). */
  postgres?: PostgresStorage;
  notifier: Notifier;
  /** Removes secrets from whatever is persisted or shown. */
  redactor: Redactor;
  /** Traces (NO_TELEMETRY when `telemetry:` is not configured). */
  telemetry: Telemetry;
  clock: () => Date;
  env: NodeJS.ProcessEnv;
}

export interface SurfaceDeps extends CoreDeps {
  gate: Gate;
  auth: Authenticator;
  /** Shape limits on JSON the policy reads. */
  limits: JsonLimits;
  /** Largest request body read (413 beyond). */
  bodyLimit: number;
  /** Readiness problems of the ledger and every plug-in (empty when ready). */
  problems(): string[];
  /** Where admin endpoints register (a separate listener, or the main one behind an admin key). */
  admin: AdminRoutes;
  /** With `sandbox:`: the one sandbox of the process, shared by the surfaces that run `sandbox.exec` (HTTP, MCP). */
  sandbox?: SandboxService;
}

export interface SurfaceModule {
  name: string;
  /** Registers the surface's routes; may return what to close at shutdown (pools, processes) and a readiness check. */
  register(router: Router, deps: SurfaceDeps): RegisteredSurface | void | Promise<RegisteredSurface | void>;
}

export interface RegisteredSurface {
  close?(): Promise<void> | void;
  /** Readiness problem, if any (shown by /readyz). */
  notReady?(): string | undefined;
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
  /** Plug-ins whose hooks must run before this one's, stage by stage (checked at start). */
  after?: string[];
  setup(deps: CoreDeps): ModuleParts | Promise<ModuleParts>;
}
