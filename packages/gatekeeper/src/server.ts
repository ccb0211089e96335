/**
 * Builds a gatekeeper from its configuration: policy bundle (hot-reloaded), ledger, plug-in modules, gate,
 * surfaces, node:http server.
 *
 * Plug-ins register in MODULES and surfaces in SURFACES — one line each (surface.ts has both contracts). The
 * order plug-ins' hooks run in is declared by the plug-ins themselves (`after`) and checked when the gate is built.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ledger } from '@oagf/ledger';
import { approvalsModule } from './approvals/module.js';
import { budgetsModule } from './budgets/module.js';
import { decisionLogsModule } from './decision-logs/module.js';
import { sessionsModule } from './sessions/module.js';
import { createAuthenticator } from './auth/agents.js';
import type { LoadedConfig } from './config/load.js';
import type { LimitsConfig } from './config/schema.js';
import { createGate, type Gate, type GateObserver, type NamedHooks } from './gate/index.js';
import { AdminRoutes } from './http/admin.js';
import { noteDecision, withRequestLog } from './http/request-log.js';
import { Router } from './http/router.js';
import { GateHttpError } from './http/errors.js';
import type { JsonLimits } from './json/strict.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import type { PolicySource } from './policy/engine.js';
import { Redactor } from './redact.js';
import { telemetryOf } from './telemetry/configure.js';
import { startPolicy } from './policy/from-config.js';
import { witnessLedger } from './ledger-witnesses.js';
import { ledgerDecisionLog, openConfiguredLedger, type DecisionLog } from './stores/ledger.js';
import { MemoryNotifier } from './stores/memory/notifier.js';
import { PostgresStorage } from './stores/postgres/storage.js';
import type { Notifier } from './stores/notifier.js';
import { anthropicSurface } from './surfaces/anthropic/index.js';
import { apisSurface } from './surfaces/apis/index.js';
import { decisionsSurface } from './surfaces/decisions/index.js';
import { healthSurface } from './surfaces/health/index.js';
import { mcpSurface } from './surfaces/mcp/index.js';
import { openaiSurface } from './surfaces/openai/index.js';
import { sandboxSurface, SandboxService } from './surfaces/sandbox/index.js';
import type { CoreDeps, GatekeeperModule, ModuleParts, RegisteredSurface, SurfaceDeps, SurfaceModule } from './surface.js';

/** Plug-in modules. */
export const MODULES: GatekeeperModule[] = [approvalsModule(), budgetsModule, decisionLogsModule, sessionsModule];

/** Surfaces: each reads its requests into actions and runs them through the gate's lifecycle. */
export const SURFACES: SurfaceModule[] = [healthSurface, decisionsSurface, apisSurface, openaiSurface, anthropicSurface, mcpSurface, sandboxSurface];

export interface BuildOptions {
  /** Replace the ledger (tests): decisions go to this log instead of the configured ledger. */
  log?: DecisionLog;
  /** An open ledger to use instead of opening the configured one (a `serve --workers` worker: the primary's). */
  ledger?: Ledger;
  /** Replace the configured policy bundle (tests). */
  policy?: PolicySource;
  clock?: () => Date;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  modules?: GatekeeperModule[];
  /** Surfaces in addition to SURFACES (a new surface in its own folder needs nothing else). */
  surfaces?: SurfaceModule[];
  notifier?: Notifier;
}

export interface Gatekeeper {
  server: Server;
  router: Router;
  /** The separate admin listener, when `admin.listen` is configured. */
  adminServer?: Server;
  gate: Gate;
  deps: SurfaceDeps;
  /** Starts listening on the configured address (port 0 picks one); resolves to the base URL. */
  listen(): Promise<string>;
  /** The admin listener's base URL once listening (undefined without `admin.listen`). */
  adminUrl?: string;
  close(): Promise<void>;
}

export async function buildServer(loaded: LoadedConfig, options: BuildOptions = {}): Promise<Gatekeeper> {
  const { config } = loaded;
  const logger = options.logger ?? createLogger(config.logging.level);
  const metrics = new Metrics({ processMetrics: true });
  const clock = options.clock ?? (() => new Date());
  const closers: (() => unknown)[] = [];

  try {
    const env = options.env ?? process.env;
    // Opened first, closed last: with `storage.postgres` every store below lives in that one schema.
    const postgres = config.storage.postgres ? await PostgresStorage.open(config.storage.postgres, env) : undefined;
    if (postgres) closers.push(() => postgres.close());
    const policy = options.policy ?? (await loadPolicy(config, logger, metrics, closers, env));
    let ledger: Ledger | undefined;
    if (!options.log) {
      const integrating = (active: boolean) => logger.info({ integrating: active }, active ? 'this replica integrates the ledger' : 'this replica stopped integrating the ledger');
      ledger = options.ledger ?? (await openConfiguredLedger(config.ledger, postgres?.ledgerDriver(integrating)));
      closers.push(() => ledger!.close());
    }
    const log = options.log ?? ledgerDecisionLog(ledger!);
    const witnessed = ledger && witnessLedger(ledger, config.ledger.witnesses, logger, metrics);
    if (witnessed) closers.push(() => witnessed.close());
    const notifier = options.notifier ?? (postgres ? await postgres.notifier() : new MemoryNotifier());
    closers.push(() => notifier.close());

    const redactor = redactorOf(config);
    const telemetry = telemetryOf(config.telemetry, env);
    closers.push(() => telemetry.shutdown());
    const core: CoreDeps = { config, configDir: loaded.dir, logger, metrics, ...(ledger ? { ledger } : {}), ...(witnessed ? { witnessed } : {}), ...(postgres ? { postgres } : {}), policy, notifier, redactor, telemetry, clock, env };
    const parts: ModuleParts[] = [];
    const plugins: NamedHooks[] = [];
    for (const module of options.modules ?? MODULES) {
      const part = await module.setup(core);
      parts.push(part);
      if (part.close) closers.push(part.close);
      if (part.hooks) plugins.push({ name: module.name, ...(module.after ? { after: module.after } : {}), hooks: part.hooks });
    }

    const ledgerState: LedgerState = {};
    const surfaces: RegisteredSurface[] = [];
    const router = new Router();
    const adminRouter = config.admin.listen ? new Router() : undefined;
    const gate = createGate({ policy, log, plugins, amounts: config.amounts, redactor, telemetry, clock, observer: observer(metrics, logger, ledgerState) });
    const sandbox = config.sandbox ? await SandboxService.open(config.sandbox, metrics, logger) : undefined;
    if (sandbox) closers.push(() => sandbox.close());
    const deps: SurfaceDeps = {
      ...core,
      gate,
      auth: createAuthenticator(config),
      limits: jsonLimits(config.limits),
      bodyLimit: config.limits.body_bytes,
      problems: () => [postgres?.notReady(), ledgerProblem(ledgerState, postgres), ...[...parts, ...surfaces].map((p) => p.notReady?.())].filter((p): p is string => !!p),
      admin: new AdminRoutes(router, { keyHashes: config.admin.api_keys, ...(adminRouter ? { router: adminRouter } : {}) }),
      ...(sandbox ? { sandbox } : {}),
    };
    const onError = (err: unknown) => {
      const kind = err instanceof GateHttpError ? err.kind : 'internal';
      metrics.errors.inc({ kind });
      if (!(err instanceof GateHttpError)) logger.error({ err }, 'unhandled error in a handler');
    };
    router.onError = onError;
    if (adminRouter) adminRouter.onError = onError;
    for (const surface of [...SURFACES, ...(options.surfaces ?? [])]) {
      const registered = await surface.register(router, deps);
      if (!registered) continue;
      surfaces.push(registered);
      if (registered.close) closers.push(() => registered.close!());
    }
    for (const part of parts) part.routes?.(router, deps);

    const listener = telemetry.serve(config.logging.requests ? withRequestLog(router.handle, logger, redactor) : router.handle);
    const server = createServer({ keepAliveTimeout: 65_000 }, listener);
    const adminServer = adminRouter ? createServer({ keepAliveTimeout: 65_000 }, adminRouter.handle) : undefined;
    const gatekeeper: Gatekeeper = {
      server,
      router,
      ...(adminServer ? { adminServer } : {}),
      gate,
      deps,
      listen: async () => {
        if (adminServer) gatekeeper.adminUrl = await listenOn(adminServer, config.admin.listen!, logger, 'admin endpoints listening');
        return listenOn(server, config.listen, logger, 'gatekeeper listening');
      },
      close: async () => {
        await Promise.all([server, adminServer].map((s) => s && stopServer(s)));
        await closeAll(closers);
        logger.flush?.();
      },
    };
    return gatekeeper;
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

function listenOn(server: Server, at: { host: string; port: number }, logger: Logger, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      logger.info({ address, port }, message);
      resolve(`http://${host}:${port}`);
    });
  });
}

function stopServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface LedgerState {
  problem?: string;
  /** Epoch ms of the failed append that set `problem`. */
  at?: number;
}

/**
 * A failed append makes the replica not ready until an append succeeds. On PostgreSQL, a ping answered after the
 * failure also clears it: a replica out of the load balancer gets no decisions that could, and would stay out.
 */
function ledgerProblem(state: LedgerState, postgres: PostgresStorage | undefined): string | undefined {
  if (state.problem && postgres && postgres.answeredSince(state.at!)) return undefined;
  return state.problem;
}

function observer(metrics: Metrics, logger: Logger, ledgerState: LedgerState): GateObserver {
  return {
    decided(outcome, ms) {
      noteDecision(outcome);
      // Readiness follows the ledger: after a failed append the gatekeeper can only refuse, until one succeeds.
      if (outcome.fault?.code === 'ledger_failure') Object.assign(ledgerState, { problem: outcome.fault.message, at: Date.now() });
      else if (outcome.index !== undefined) ledgerState.problem = undefined;
      const surface = outcome.input.context.surface ?? 'unknown';
      metrics.decisions.inc({ outcome: outcome.decision.outcome, surface, fault: outcome.fault?.code ?? '' });
      metrics.decisionSeconds.observe({ surface }, ms / 1000);
      if (outcome.fault) logger.warn({ record: outcome.recordId, agent: outcome.input.agent.id, fault: outcome.fault }, 'decision fault');
      else if (logger.isLevelEnabled('debug')) {
        const { agent, action } = outcome.input;
        logger.debug({ record: outcome.recordId, index: outcome.index, agent: agent.id, kind: action.kind, outcome: outcome.decision.outcome, ms }, 'decision');
      }
    },
    hookFailed(stage, err) {
      metrics.errors.inc({ kind: `hook_${stage}` });
      logger.error({ err, stage }, 'gatekeeper plug-in failed');
    },
  };
}

/** One redactor for everything: `redact.patterns`, plus the approvals section's own (kept for older configurations). */
function redactorOf(config: LoadedConfig['config']): Redactor {
  const approvals = (config.approvals as { redact?: { patterns?: unknown } } | undefined)?.redact?.patterns;
  return new Redactor([...config.redact.patterns, ...(Array.isArray(approvals) ? approvals.filter((p): p is string => typeof p === 'string') : [])]);
}

function jsonLimits(limits: LimitsConfig): JsonLimits {
  const j = limits.json;
  return { depth: j.depth, arrayLength: j.array_length, objectKeys: j.object_keys, stringLength: j.string_length, values: j.values };
}

async function loadPolicy(config: LoadedConfig['config'], logger: Logger, metrics: Metrics, closers: (() => unknown)[], env: NodeJS.ProcessEnv): Promise<PolicySource> {
  const policy = await startPolicy(
    config.policy,
    {
      loaded(digest, dir, revision) {
        metrics.policyReloads.inc({ result: 'loaded' });
        logger.info({ digest, dir, ...(revision ? { revision } : {}) }, 'policy bundle active');
      },
      rejected(error, dir) {
        metrics.policyReloads.inc({ result: 'rejected' });
        logger.error({ dir, error }, 'policy bundle rejected; the previous bundle stays active');
      },
      downloaded(result) {
        metrics.bundleDownloads.inc({ result });
      },
    },
    env,
  );
  closers.push(() => policy.close());
  return policy;
}

async function closeAll(closers: (() => unknown)[]): Promise<void> {
  for (const close of closers.reverse()) await close();
}
