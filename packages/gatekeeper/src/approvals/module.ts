/**
 * The approvals plug-in as the server builds it: validates `approvals:` in gatekeeper.yaml, opens the store and
 * the approval key, hooks into the gate, sends notices and serves the reviewer console. Without an `approvals:`
 * section it stays out of the way, and escalations are refused (nobody could approve them).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { verifierKeyOf } from '@oagf/ledger';
import type { CoreDeps, GatekeeperModule, ModuleParts } from '../surface.js';
import { registerAgentApprovalRoutes } from './agent-routes.js';
import { registerConsoleRoutes } from './console/routes.js';
import { Accounts } from './accounts.js';
import { parseApprovalsConfig, resolveUrl, type ApprovalsConfig } from './config.js';
import { approvalHooks } from './hooks.js';
import { loginMetrics, registerApprovalMetrics } from './metrics.js';
import { OidcSignIn } from './console/oidc.js';
import { LoginThrottle } from './console/throttle.js';
import { NoticeDispatcher, slackChannel, teamsChannel, webhookChannel, type NoticeChannel } from './notices/dispatcher.js';
import { ApprovalService } from './service.js';
import { ApprovalSigner } from './signing.js';
import { SqliteApprovalStore } from '../stores/sqlite/approvals.js';
import { SqliteSessionStore } from '../stores/sqlite/sessions.js';
import { TraceRecorder } from './trace.js';
import type { ApprovalLedger } from './types.js';

export interface ApprovalsModuleOptions {
  /** Where verdicts go when the server runs without its configured ledger (tests). */
  ledger?: ApprovalLedger;
  env?: NodeJS.ProcessEnv;
  /** Receives the running service (the demo and tests drive it directly). */
  onReady?: (service: ApprovalService) => void;
}

export function approvalsModule(options: ApprovalsModuleOptions = {}): GatekeeperModule {
  return {
    name: 'approvals',
    setup(core: CoreDeps): ModuleParts {
      if (core.config.approvals === undefined) return {};
      const config = parseApprovalsConfig(core.config.approvals, core.configDir);
      const ledger = options.ledger ?? core.ledger;
      if (!ledger) throw new Error('approvals need a ledger to record verdicts in');
      if (!core.postgres && config.database !== ':memory:') mkdirSync(dirname(config.database), { recursive: true });
      const store = core.postgres?.approvals() ?? new SqliteApprovalStore(config.database);
      const sessions = core.postgres?.sessions() ?? new SqliteSessionStore(config.database);
      const redactor = core.redactor;
      const service = new ApprovalService({
        store,
        notifier: core.notifier,
        ledger,
        signer: ApprovalSigner.fromFile(config.signing_key_file),
        redactor,
        expiryMs: config.expiry_s * 1000,
        now: core.clock,
      });
      const consoleUrl = config.console.public_url ?? `http://${hostOf(core.config.listen)}/console`;
      const notices = new NoticeDispatcher({
        store,
        notifier: core.notifier,
        channels: channelsOf(config, options.env ?? process.env, consoleUrl),
        consoleUrl,
        attempts: config.notices.attempts,
        backoffMs: config.notices.backoff_ms,
        timeoutMs: config.notices.timeout_ms,
      });
      registerApprovalMetrics(service, notices, core.metrics.registry);
      if (!config.accounts.length && !config.console.oidc) core.logger.warn('approvals are on but approvals.accounts is empty and no single sign-on is configured: nobody can sign in to decide');
      const oidc = config.console.oidc
        ? new OidcSignIn(
            config.console.oidc,
            {
              redirectUri: config.console.oidc.redirect_uri ?? `${consoleUrl}/oidc/callback`,
              postLogoutRedirectUri: config.console.oidc.post_logout_redirect_uri ?? `${consoleUrl}/login`,
            },
            options.env ?? core.env,
          )
        : undefined;
      service.start();
      const throttle = new LoginThrottle(sessions, config.console.login, loginMetrics(core.metrics.registry), core.logger);
      // Expired sessions and stale failure counts go; a failing sweep is retried at the next one.
      const sweeper = setInterval(() => void Promise.all([sessions.sweep(Date.now()), throttle.sweep()]).catch(() => {}), 60_000);
      sweeper.unref();
      options.onReady?.(service);
      return {
        hooks: approvalHooks({
          service,
          traces: new TraceRecorder(redactor),
          modes: config.modes,
          holdTimeoutMs: config.hold_timeout_s * 1000,
          retryAfterSeconds: config.retry_after_s,
          onOpened: (a) => {
            core.logger.info({ approval: a.id, agent: a.agentId, summary: a.summary }, 'approval requested');
            notices.dispatch(a);
          },
        }),
        routes(router, surface) {
          registerAgentApprovalRoutes(router, surface.auth, service, config.retry_after_s);
          registerConsoleRoutes(router, {
            service,
            accounts: new Accounts(config.accounts),
            sessions,
            notifier: core.notifier,
            sessionTtlMs: config.console.session_ttl_s * 1000,
            throttle,
            ...(core.ledger ? { ledger: core.ledger } : {}),
            ledgerKeys: ledgerKeys(core),
            localAccounts: config.accounts.length > 0,
            ...(oidc ? { oidc } : {}),
          });
        },
        async close() {
          clearInterval(sweeper);
          service.stop();
          await notices.idle();
          await sessions.close();
          await store.close();
        },
      };
    },
  };
}

function channelsOf(config: ApprovalsConfig, env: NodeJS.ProcessEnv, consoleUrl: string): NoticeChannel[] {
  const n = config.notices;
  return [
    ...n.teams.map((t, i) => teamsChannel(`teams#${i + 1}`, resolveUrl(t.url, env))),
    ...n.slack.map((s, i) => slackChannel(`slack#${i + 1}`, resolveUrl(s.url, env))),
    ...n.webhooks.map((w, i) => {
      const secret = env[w.secret_env];
      if (!secret) throw new Error(`approvals.notices.webhooks[${i}].secret_env: environment variable ${w.secret_env} is not set`);
      return webhookChannel(`webhook#${i + 1}`, resolveUrl(w.url, env), secret, consoleUrl.replace(/\/console$/, ''));
    }),
  ];
}

function ledgerKeys(core: CoreDeps): string[] {
  try {
    return [verifierKeyOf(readFileSync(core.config.ledger.signing_key_file, 'utf8').trim())];
  } catch {
    return [];
  }
}

function hostOf(listen: { host: string; port: number }): string {
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? 'localhost' : listen.host;
  return `${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}
