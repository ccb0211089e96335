/** Public API of the budgets plug-in: spending caps with escrow. */
export { BudgetsConfig, BudgetLimit, ModelPrice, type BudgetsConfigInput } from './config.js';
export {
  Budgets,
  type AppliedBudget,
  type BudgetReservation,
  type BudgetsOptions,
  type Clock,
  type ReleaseProgress,
  type ReserveOutcome,
  type SettleInput,
} from './engine.js';
export { budgetHooks } from './hooks.js';
export { budgetsModule, openBudgets } from './module.js';
export { budgetsCommand } from './cli.js';
export { registerBudgetMetrics } from './metrics.js';
export { formatBudgetTable } from './table.js';
export { BudgetView, InputBudgets } from './schema.js';
export { SqliteBudgetStore, type SqliteBudgetStoreOptions } from '../stores/sqlite/budgets.js';
export type {
  ActualByMeter,
  BudgetStore,
  CloseResult,
  CounterKey,
  CounterState,
  Meter,
  ReservationLine,
  ReservationState,
  ReserveRequest,
  ReserveResult,
} from '../stores/budgets.js';
export { costMicros, readUsage, type TokenUsage } from './pricing.js';
export { formatMicros, toMicros } from './money.js';
export { WINDOWS, windowBounds, type WindowBounds, type WindowKind } from './windows.js';
