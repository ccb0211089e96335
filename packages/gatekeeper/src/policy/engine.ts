/**
 * The seam between the gate and the policy engine. The gate only needs "evaluate this input under the bundle
 * that is active right now"; hot reload swaps the active evaluator behind a `PolicySource`.
 */
import type { BundleStatus } from '@oagf/rego';
import type { ExplanationEntry } from '../spec/index.js';

export interface PolicyEvaluation {
  /** Value of the entrypoint (data.oagf.decision); undefined when the rule produced nothing. */
  value: unknown;
  explanation: ExplanationEntry[];
}

export interface PolicyEvaluator {
  /** sha256:<hex> over the bundle's sorted file names and contents. */
  readonly digest: string;
  /** Throws PolicyEvalError on evaluation errors and budget overruns. */
  evaluate(input: unknown): PolicyEvaluation;
}

export interface PolicySource {
  /** The active evaluator; undefined when no bundle has ever compiled. */
  current(): PolicyEvaluator | undefined;
  /** Why no evaluator is active, when the source can say more than "none is". */
  problem?(): string | undefined;
  /** Where the bundle comes from and how its last update went (a bundle server's OPA-style status). */
  status?(): BundleStatus;
}

export class PolicyEvalError extends Error {
  constructor(
    readonly code: 'policy_error' | 'policy_budget',
    message: string,
  ) {
    super(message);
    this.name = 'PolicyEvalError';
  }
}

/** A fixed evaluator as a source (tests, `policy eval`, replay). */
export function staticSource(evaluator: PolicyEvaluator | undefined): PolicySource {
  return { current: () => evaluator };
}
