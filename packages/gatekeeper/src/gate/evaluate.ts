/** Runs the policy on an input and validates its output; also used by `policy eval` and `replay`. */
import { PolicyEvalError, type PolicyEvaluator } from '../policy/engine.js';
import { PolicyResult, type Decision, type GateFault } from '../spec/index.js';

export type Evaluated = { decision: Decision } | { fault: GateFault };

export function evaluate(evaluator: PolicyEvaluator, input: unknown): Evaluated {
  let value: unknown;
  let explanation: Decision['explanation'];
  try {
    ({ value, explanation } = evaluator.evaluate(input));
  } catch (err) {
    if (err instanceof PolicyEvalError) return { fault: { code: err.code, message: err.message } };
    return { fault: { code: 'policy_error', message: `policy evaluation failed: ${(err as Error).message ?? err}` } };
  }
  if (value === undefined) {
    return { fault: { code: 'policy_output', message: 'the policy produced no decision (data.oagf.decision is undefined)' } };
  }
  const parsed = PolicyResult.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { fault: { code: 'policy_output', message: `the policy decision is malformed: ${problems}` } };
  }
  return { decision: { ...parsed.data, policy_digest: evaluator.digest, explanation } };
}

export function faultDecision(code: GateFault['code'], message: string, policyDigest: string): Decision {
  return { outcome: 'deny', reasons: [message], obligations: [], policy_digest: policyDigest, explanation: [], fault: { code, message } };
}

/** The deny an allowed action becomes when a plug-in refuses to admit it (e.g. a budget that does not fit). */
export function refusedAdmission(decision: Decision, reason: string, rule: string): Decision {
  const { approvers: _approvers, ...rest } = decision;
  return { ...rest, outcome: 'deny', reasons: [reason], obligations: [], explanation: [...decision.explanation, { rule }] };
}

/** The same decision turned into a deny, keeping the policy's reasons and adding this one. */
export function deniedWith(decision: Decision, reason: string): Decision {
  return { ...decision, outcome: 'deny', reasons: [...decision.reasons, reason] };
}
