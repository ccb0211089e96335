/**
 * `input.budgets`: the budget state a policy sees. This zod schema is the single source;
 * the OAGF spec's JSON Schema is generated from it. Amounts are in major units of the
 * budget's currency (like `action.amount.value`), derived from the exact micro-unit totals.
 * Empty when no budget applies, so the gate's `budgets: {}` default is a valid value.
 */
import { z } from 'zod';
import { WINDOWS } from './windows.js';

export const BudgetView = z
  .object({
    budget: z.string().describe('Budget id from configuration'),
    scope: z.enum(['agent', 'team', 'chain']),
    subject: z.string().describe('Agent id, team id or delegation-chain root agent id the budget counts for'),
    meter: z.enum(['llm_spend', 'action_amount', 'requests', 'llm_tokens']),
    window: z.enum(WINDOWS),
    window_start: z.string().nullable().describe('RFC 3339 start of the current window (null for call and lifetime)'),
    window_end: z.string().nullable().describe('RFC 3339 end of the current window (null for call and lifetime)'),
    currency: z.string(),
    cap: z.number(),
    spent: z.number().describe('Settled spend in this window'),
    reserved: z.number().describe('Held by calls still in flight'),
    remaining: z.number().describe('cap - spent - reserved, never below 0'),
    requested: z
      .number()
      .nullable()
      .describe('Worst case this action would reserve on this budget (null when it cannot be priced)'),
  })
  .describe('State of one budget counter');

const PerWindow = z
  .object(Object.fromEntries(WINDOWS.map((w) => [w, BudgetView.optional()])) as Record<
    (typeof WINDOWS)[number],
    z.ZodOptional<typeof BudgetView>
  >)
  .describe('Per window, the applicable budget with the least remaining');

export const InputBudgets = z
  .object({
    llm_spend: PerWindow.optional().describe('Present when an llm_spend budget applies to this action'),
    action_amount: PerWindow.optional().describe('Present when an action_amount budget applies to this action'),
    requests: PerWindow.optional().describe('Present when a requests rate limit applies to this action'),
    llm_tokens: PerWindow.optional().describe('Present when an llm_tokens rate limit applies to this action'),
    limits: z.array(BudgetView).optional().describe('Every budget that applies to this action'),
  })
  .describe('Budget state before this action (filled by the gatekeeper; see spec/README.md)');

export type BudgetView = z.output<typeof BudgetView>;
export type InputBudgets = z.output<typeof InputBudgets>;
