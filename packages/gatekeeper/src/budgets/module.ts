/**
 * The budgets plug-in as the server loads it: opens the store, registers the gate hooks,
 * `GET /v1/budgets` and the Prometheus gauges. The config schema embeds BudgetsConfig, so the
 * section arrives validated (with line numbers on errors).
 */
import { isAbsolute, resolve } from 'node:path';
import { sendJson } from '../http/router.js';
import type { GatekeeperModule } from '../surface.js';
import type { BudgetsConfig } from './config.js';
import { Budgets, type BudgetsOptions } from './engine.js';
import { budgetHooks } from './hooks.js';
import { registerBudgetMetrics } from './metrics.js';
import type { PostgresStorage } from '../stores/postgres/storage.js';
import { SqliteBudgetStore } from '../stores/sqlite/budgets.js';

/**
 * Opens the configured store: the shared PostgreSQL schema when given (`storage.postgres`), else the SQLite file,
 * a relative path taken from the config file's directory.
 */
export function openBudgets(config: BudgetsConfig, configDir: string, options: BudgetsOptions = {}, postgres?: PostgresStorage): Budgets {
  if (postgres) return new Budgets(config, postgres.budgets(), options);
  const path = config.store.sqlite;
  const file = path === ':memory:' || isAbsolute(path) ? path : resolve(configDir, path);
  return new Budgets(config, new SqliteBudgetStore(file), options);
}

export const budgetsModule: GatekeeperModule = {
  name: 'budgets',
  setup(deps) {
    const config = deps.config.budgets;
    if (config === undefined) return {};
    const budgets = openBudgets(config, deps.configDir, {
      clock: () => deps.clock().getTime(),
      onWarning: (message, detail) => deps.logger.warn(detail, message),
    }, deps.postgres);
    registerBudgetMetrics(budgets, deps.metrics.registry);
    return {
      hooks: budgetHooks(budgets),
      routes(_router, surface) {
        surface.admin.add('GET', '/v1/budgets', async (_req, res) => {
          sendJson(res, 200, { budgets: await budgets.overview() });
        });
      },
      close: () => budgets.store.close(),
    };
  },
};
