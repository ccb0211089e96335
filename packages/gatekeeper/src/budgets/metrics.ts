/**
 * Prometheus gauges for budgets, read from the store at scrape time so every replica
 * sharing the store reports the same figures.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Budgets } from './engine.js';

const LABELS = ['budget', 'subject', 'meter', 'window', 'currency'] as const;
const SHARED_READ_MS = 1_000;

export function registerBudgetMetrics(budgets: Budgets, registry: Registry): void {
  const gauges = {
    spent: new Gauge({ name: 'gatekeeper_budget_spent', help: 'Settled spend in the current window, in major currency units', labelNames: LABELS, registers: [registry], collect: () => refresh() }),
    reserved: new Gauge({ name: 'gatekeeper_budget_reserved', help: 'Spend held by in-flight calls, in major currency units', labelNames: LABELS, registers: [registry], collect: () => refresh() }),
    remaining: new Gauge({ name: 'gatekeeper_budget_remaining', help: 'Cap minus spent minus reserved, in major currency units', labelNames: LABELS, registers: [registry], collect: () => refresh() }),
    cap: new Gauge({ name: 'gatekeeper_budget_cap', help: 'Configured cap, in major currency units', labelNames: LABELS, registers: [registry], collect: () => refresh() }),
  };
  // prom-client collects each gauge separately; one store read serves all four within a scrape.
  let last: { at: number; done: Promise<void> } | undefined;
  const refresh = () => {
    const now = Date.now();
    if (last && now - last.at < SHARED_READ_MS) return last.done;
    const done = budgets.overview().then((views) => {
      for (const g of Object.values(gauges)) g.reset(); // windows that rolled over drop out
      for (const v of views) {
        const labels = { budget: v.budget, subject: v.subject, meter: v.meter, window: v.window, currency: v.currency };
        gauges.spent.set(labels, v.spent);
        gauges.reserved.set(labels, v.reserved);
        gauges.remaining.set(labels, v.remaining);
        gauges.cap.set(labels, v.cap);
      }
    });
    last = { at: now, done };
    done.catch(() => (last = undefined));
    return done;
  };
}
