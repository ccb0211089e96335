/** Prometheus metrics for approvals: what is waiting, how it ends, and whether notices get through. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NoticeDispatcher } from './notices/dispatcher.js';
import type { ApprovalService } from './service.js';

export function registerApprovalMetrics(service: ApprovalService, notices: NoticeDispatcher, registry: Registry): void {
  new Gauge({
    name: 'gatekeeper_approvals_pending',
    help: 'Approval requests waiting for a decision',
    registers: [registry],
    async collect() {
      this.set(await service.store.count('pending'));
    },
  });
  const verdicts = new Counter({
    name: 'gatekeeper_approval_verdicts_total',
    help: 'Approval requests that became final, by status (approved, rejected, expired)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const used = new Counter({ name: 'gatekeeper_approvals_used_total', help: 'Approved actions carried out', registers: [registry] });
  const deliveries = new Counter({
    name: 'gatekeeper_approval_notices_total',
    help: 'Notice deliveries that finished, by channel and status (delivered, failed)',
    labelNames: ['channel', 'status'] as const,
    registers: [registry],
  });
  service.on('decided', (a) => verdicts.inc({ status: a.status }));
  service.on('used', () => used.inc());
  notices.on('delivery', (d) => {
    if (d.status !== 'pending') deliveries.inc({ channel: d.channel, status: d.status });
  });
}

export interface LoginMetrics {
  logins: Counter<'result'>;
  lockouts: Counter<'scope'>;
  /** Reports the password checks running and queued when scraped. */
  observeChecks(state: () => { active: number; waiting: number }): void;
}

/** Console sign-ins: results (success, failure, throttled, locked, busy), lockouts, password checks in flight. */
export function loginMetrics(registry: Registry): LoginMetrics {
  let state = () => ({ active: 0, waiting: 0 });
  new Gauge({
    name: 'gatekeeper_console_password_checks',
    help: 'Console password verifications running (state="active") and queued (state="waiting")',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = state();
      this.set({ state: 'active' }, s.active);
      this.set({ state: 'waiting' }, s.waiting);
    },
  });
  return {
    logins: new Counter({
      name: 'gatekeeper_console_logins_total',
      help: 'Console sign-in attempts by result: success, failure (wrong credentials), throttled (back-off), locked, busy (too many checks at once)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    lockouts: new Counter({ name: 'gatekeeper_console_lockouts_total', help: 'Console accounts or client addresses locked after repeated failed sign-ins', labelNames: ['scope'] as const, registers: [registry] }),
    observeChecks: (s) => (state = s),
  };
}
