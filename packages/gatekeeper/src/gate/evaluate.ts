/** Runs the policy on an input and validates its output; also used by `policy eval` and `replay`. */
import { PolicyEvalError, type PolicyEvaluator } from '../policy/engine.js';
import type { z } from 'zod';
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
  const plain = plainResult(value);
  if (plain) return { decision: { ...plain, policy_digest: evaluator.digest, explanation } };
  const parsed = PolicyResult.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { fault: { code: 'policy_output', message: `the policy decision is malformed: ${problems}` } };
  }
  return { decision: { ...parsed.data, policy_digest: evaluator.digest, explanation } };
}

const OUTCOMES: ReadonlySet<unknown> = new Set(['allow', 'deny', 'escalate']);

/**
 * The shape almost every decision has — an outcome, string reasons, no obligations, no approvers — checked by hand:
 * zod's safeParse was ~1% of a gated chat completion's CPU. Anything else (obligations, approvers, other keys, a
 * malformed value) goes to PolicyResult, which gives the same result for this shape and the messages for bad ones.
 */
function plainResult(value: unknown): z.output<typeof PolicyResult> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  let outcome: unknown;
  let reasons: string[] = [];
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (key === 'outcome') outcome = v;
    else if (key === 'reasons') {
      if (!Array.isArray(v) || !v.every((r) => typeof r === 'string')) return undefined;
      reasons = [...(v as string[])];
    } else if (key !== 'obligations' || !Array.isArray(v) || v.length > 0) return undefined;
  }
  if (!OUTCOMES.has(outcome)) return undefined;
  return { outcome: outcome as Decision['outcome'], reasons, obligations: [] };
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
