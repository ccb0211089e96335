/**
 * OAGF v1 decision document. `PolicyResult` is what the policy entrypoint (`data.oagf.decision`) must produce;
 * `Decision` is what the gatekeeper returns and records: the policy result plus bundle digest and explanation.
 */
import { z } from 'zod';

export const Outcome = z.enum(['allow', 'deny', 'escalate']);

export const Obligation = z
  .object({
    type: z.string().min(1).describe('e.g. "redact" (fields), "label" (labels, source), "notify", "log"'),
    fields: z.array(z.string()).optional().describe('redact: dotted paths into the action to redact before forwarding/recording'),
    labels: z.array(z.string().min(1)).optional().describe('label: labels for the action\'s result (private, untrusted, pii, secret, ...), carried into the session'),
    source: z.string().min(1).optional().describe('label: where the data comes from (default: the tool, API route or URI)'),
  })
  .loose()
  .refine((o) => o.type !== 'label' || (o.labels?.length ?? 0) > 0, { message: 'a label obligation names at least one label in "labels"', path: ['labels'] })
  .describe('Something the gatekeeper must do when carrying out the decision');

export const Approvers = z
  .object({
    groups: z.array(z.string()).default([]).describe('Approver groups, any member may approve'),
    users: z.array(z.string()).default([]).describe('Named approvers'),
    min: z.number().int().positive().default(1).describe('N of N-of-M: approvals required'),
  })
  .describe('Who must approve an escalation');

export const PolicyResult = z
  .object({
    outcome: Outcome,
    reasons: z.array(z.string()).default([]),
    obligations: z.array(Obligation).default([]),
    approvers: Approvers.optional(),
  })
  .describe('What data.oagf.decision must evaluate to');

export const ExplanationEntry = z.object({
  rule: z.string(),
  location: z.object({ file: z.string(), row: z.number().int(), col: z.number().int() }).optional(),
});

export const Fault = z
  .object({
    code: z.enum([
      'unknown_agent',
      'invalid_action',
      'no_policy',
      'policy_error',
      'policy_budget',
      'policy_output',
      'hook_error',
      'ledger_failure',
      'internal_error',
    ]),
    message: z.string(),
  })
  .describe('Present when the gatekeeper could not decide normally; the outcome is then always deny');

export const Decision = PolicyResult.extend({
  policy_digest: z.string().describe('sha256:<hex> of the policy bundle that decided (empty when none was loaded)'),
  explanation: z.array(ExplanationEntry).default([]).describe('Rules that produced the outcome'),
  fault: Fault.optional(),
}).describe('OAGF v1 decision document');

export type Outcome = z.output<typeof Outcome>;
export type Obligation = z.output<typeof Obligation>;
export type Approvers = z.output<typeof Approvers>;
export type PolicyResult = z.output<typeof PolicyResult>;
export type ExplanationEntry = z.output<typeof ExplanationEntry>;
export type GateFault = z.output<typeof Fault>;
export type Decision = z.output<typeof Decision>;
