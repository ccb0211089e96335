/**
 * Worst-case token estimate for a request before it is sent, and the request's output
 * limit for the completion. The default `upper_bound` counts one token per UTF-8 byte of
 * the prompt fields serialized as JSON: byte-level BPE tokenizers never emit a token
 * shorter than one byte, so the hold covers any tokenization of that text (tool schemas
 * included) and settling can never pass a cap. `approximate` (characters / chars_per_token)
 * holds less but can be exceeded by densely tokenizing text.
 */
import type { BudgetsConfig } from './config.js';
import { isRecord, type TokenUsage } from './pricing.js';

/** Request fields that carry prompt text across chat completions, responses and embeddings. */
const PROMPT_FIELDS = ['messages', 'input', 'instructions', 'prompt', 'tools', 'functions'] as const;
const OUTPUT_LIMIT_FIELDS = ['max_completion_tokens', 'max_tokens', 'max_output_tokens'] as const;

export function estimatePromptTokens(config: BudgetsConfig, request: Record<string, unknown>): number {
  const bound = config.estimate.mode === 'upper_bound';
  let units = 0;
  let messages = 0;
  for (const field of PROMPT_FIELDS) {
    const value = request[field];
    if (value === undefined) continue;
    units += bound ? Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') : stringChars(value);
    messages += Array.isArray(value) ? value.length : 1;
  }
  const tokens = bound ? units : Math.ceil(units / config.estimate.chars_per_token);
  return tokens + messages * config.estimate.per_message_tokens;
}

/** Output tokens to reserve: the request's own limit, else the model's, else the default. */
export function outputLimit(config: BudgetsConfig, request: Record<string, unknown>, modelMax?: number): number {
  for (const field of OUTPUT_LIMIT_FIELDS) {
    const v = request[field];
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  }
  return modelMax ?? config.default_max_output_tokens;
}

export function worstCaseUsage(
  config: BudgetsConfig,
  request: Record<string, unknown>,
  modelMax: number | undefined,
  embeddings: boolean,
): TokenUsage {
  return {
    input: estimatePromptTokens(config, request),
    cachedInput: 0,
    output: embeddings ? 0 : outputLimit(config, request, modelMax),
  };
}

/** Rough tokens in text already streamed, for the `charge_estimate` rule on a cut stream. */
export function estimateTextTokens(config: BudgetsConfig, chars: number): number {
  return Math.ceil(chars / config.estimate.chars_per_token);
}

function stringChars(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + stringChars(v), 0);
  if (isRecord(value)) {
    let n = 0;
    for (const [k, v] of Object.entries(value)) n += (typeof v === 'string' ? k.length : 0) + stringChars(v);
    return n;
  }
  return 0;
}
