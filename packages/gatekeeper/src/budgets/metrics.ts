/**
 * Prometheus gauges for budgets, read from the store at scrape time so every replica
 * sharing the store reports the same figures.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Budgets } from './engine.js';

const LABELS = ['budget', 'subject', 'meter', 'window', 'currency'] as const;

export function registerBudgetMetrics(budgets: Budgets, registry: Registry): void {
  const gauges = {
    spent: new Gauge({ name: 'gatekeeper_budget_spent', help: 'Settled spend in the current window, in major currency units', labelNames: LABELS, registers: [registry] }),
    reserved: new Gauge({ name: 'gatekeeper_budget_reserved', help: 'Spend held by in-flight calls, in major currency units', labelNames: LABELS, registers: [registry] }),
    remaining: new Gauge({ name: 'gatekeeper_budget_remaining', help: 'Cap minus spent minus reserved, in major currency units', labelNames: LABELS, registers: [registry] }),
    cap: new Gauge({ name: 'gatekeeper_budget_cap', help: 'Configured cap, in major currency units', labelNames: LABELS, registers: [registry] }),
  };
  let pending: Promise<void> | undefined;
  // One store read per scrape feeds all four gauges; windows that rolled over drop out.
  const refresh = () =>
    (pending ??= budgets
      .overview()
      .then((views) => {
        for (const g of Object.values(gauges)) g.reset();
        for (const v of views) {
          const labels = { budget: v.budget, subject: v.subject, meter: v.meter, window: v.window, currency: v.currency };
          gauges.spent.set(labels, v.spent);
          gauges.reserved.set(labels, v.reserved);
          gauges.remaining.set(labels, v.remaining);
          gauges.cap.set(labels, v.cap);
        }
      })
      .finally(() => (pending = undefined)));
  for (const g of Object.values(gauges)) {
    // prom-client awaits an async collect before reading the gauge.
    (g as unknown as { collect: () => Promise<void> }).collect = refresh;
  }
}
