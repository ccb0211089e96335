/**
 * The gate: one decision pipeline (gate.ts) and one action lifecycle around it (lifecycle.ts) for every surface.
 * Plug-ins contribute hooks (hooks.ts) whose order is declared data (order.ts).
 */
import { createDecider, type GateOptions, type GateOutcome } from './gate.js';
import type { ActionAttempt } from './hooks.js';
import { runLifecycle, type Execute, type RunResult, type RunWatch } from './lifecycle.js';

export interface Gate {
  /** The decision alone (recorded, never throws: faults become a deny with `fault`). */
  decide(attempt: ActionAttempt): Promise<GateOutcome>;
  /** The whole lifecycle: decide, hold, refuse or execute the judged action, settle, record the outcome. */
  run<T>(attempt: ActionAttempt, execute: Execute<T>, watch?: RunWatch): Promise<RunResult<T>>;
  /** The lifecycle without an execution (the caller acts on its own): escrow settled at once. */
  run(attempt: ActionAttempt): Promise<RunResult<undefined>>;
}

export function createGate(options: GateOptions): Gate {
  const decider = createDecider(options);
  return {
    decide: (attempt) => decider.decide(attempt),
    run: ((attempt: ActionAttempt, execute?: Execute<unknown>, watch?: RunWatch) => runLifecycle(decider, attempt, execute, watch)) as Gate['run'],
  };
}

export { evaluate, faultDecision, type Evaluated } from './evaluate.js';
export { findAmount, withAmount } from './amounts.js';
export { orderHooks } from './order.js';
export { refusalOf, reasonText, type Refusal, type RefusalKind } from './refusal.js';
export type { GateObserver, GateOptions, GateOutcome } from './gate.js';
export type { Executed, Execute, RunResult, RunWatch, Settlement } from './lifecycle.js';
export type * from './hooks.js';
