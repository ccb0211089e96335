/**
 * The `budgets:` section of gatekeeper.yaml. Amounts are written as decimals in major
 * units ("5.00", 2.5) and become exact micros on parsing.
 */
import { z } from 'zod';
import { toMicros } from './money.js';
import { WINDOWS } from './windows.js';

const decimal = (what: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    try {
      const micros = toMicros(v, what);
      if (micros < 0n) throw new Error(`${what}: must not be negative`);
      return micros;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

const currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as USD');

export const ModelPrice = z
  .object({
    input: decimal('input price').describe('Price per 1M input (prompt) tokens'),
    output: decimal('output price').describe('Price per 1M output (completion) tokens, reasoning included'),
    cached_input: decimal('cached input price').optional().describe('Price per 1M cached prompt tokens; defaults to the input price'),
    max_output_tokens: z.number().int().positive().optional().describe('Reserved when a request sets no max_tokens'),
  })
  .strict();

export const BudgetLimit = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only'),
    scope: z.enum(['agent', 'team', 'chain']).describe('chain: counted for the root agent of the delegation chain'),
    subject: z.string().min(1).optional().describe('Only this agent/team/chain root; omit to count each one separately'),
    meter: z
      .enum(['llm_spend', 'action_amount', 'requests', 'llm_tokens'])
      .describe('requests and llm_tokens are rate limits: the cap is a count, and a refusal is 429 with Retry-After'),
    window: z.enum(WINDOWS),
    cap: decimal('cap'),
    currency: currency.optional().describe('Defaults to budgets.currency'),
    kinds: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'Only actions of these kinds count (e.g. [http.request] so a proposed place_order tool call and the ERP call that carries it out are not counted twice); omit for every kind (for requests: every kind an agent sends itself, not the tool calls a model proposes)',
      ),
  })
  .strict();

export const BudgetsConfig = z
  .object({
    store: z
      .object({ sqlite: z.string().min(1).describe('Path of the SQLite budget database (":memory:" for tests)') })
      .strict()
      .default({ sqlite: 'budgets.db' }),
    currency: currency.default('USD').describe('Currency of prices and llm_spend budgets'),
    reservation_ttl_seconds: z
      .number()
      .int()
      .positive()
      .default(900)
      .describe('Open reservations lapse after this long (a crashed process must not hold budget forever); keep it above the upstream timeout'),
    stream_cut: z
      .enum(['charge_reserved', 'charge_estimate', 'release'])
      .default('charge_reserved')
      .describe('What a stream cut before its final usage chunk is charged'),
    estimate: z
      .object({
        mode: z
          .enum(['upper_bound', 'approximate'])
          .default('upper_bound')
          .describe(
            'upper_bound: one token per UTF-8 byte of the prompt fields as JSON (a byte-level BPE token covers at least one byte), so a settled call never costs more than its hold; approximate: characters / chars_per_token',
          ),
        chars_per_token: z.number().positive().default(4).describe('approximate mode, and streamed text under stream_cut: charge_estimate'),
        per_message_tokens: z.number().int().nonnegative().default(4),
      })
      .strict()
      .default({ mode: 'upper_bound', chars_per_token: 4, per_message_tokens: 4 }),
    default_max_output_tokens: z.number().int().positive().default(4096),
    prices: z
      .record(z.string(), ModelPrice)
      .default({})
      .describe('Per model (exact name, or "prefix*"), per 1M tokens, in budgets.currency'),
    limits: z.array(BudgetLimit).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.limits.forEach((limit, i) => {
      if (seen.has(limit.id)) ctx.addIssue({ code: 'custom', path: ['limits', i, 'id'], message: `duplicate budget id "${limit.id}"` });
      seen.add(limit.id);
      if (limit.meter === 'llm_spend' && limit.currency && limit.currency !== cfg.currency) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', i, 'currency'],
          message: `llm_spend budgets are counted in budgets.currency (${cfg.currency}), not ${limit.currency}`,
        });
      }
    });
  });

export type BudgetsConfigInput = z.input<typeof BudgetsConfig>;
export type BudgetsConfig = z.output<typeof BudgetsConfig>;
export type BudgetLimit = z.output<typeof BudgetLimit>;
export type ModelPrice = z.output<typeof ModelPrice>;
