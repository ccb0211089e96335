/**
 * LLM cost: token counts × the configured price per 1M tokens, computed in integer
 * micros and rounded up once per call.
 */
import type { BudgetsConfig, ModelPrice } from './config.js';
import { ceilDiv } from './money.js';

export interface TokenUsage {
  /** Prompt tokens billed at the input price (cached ones excluded). */
  input: number;
  /** Prompt tokens served from the provider's cache. */
  cachedInput: number;
  output: number;
}

const PER_MILLION = 1_000_000n;

/** The model's price: an exact entry, else the longest matching "prefix*" entry (as in LLM routing). */
export function priceFor(config: BudgetsConfig, model: string): ModelPrice | undefined {
  if (Object.hasOwn(config.prices, model)) return config.prices[model];
  let best: string | undefined;
  for (const key of Object.keys(config.prices)) {
    if (key.endsWith('*') && model.startsWith(key.slice(0, -1)) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : config.prices[best];
}

export function costMicros(price: ModelPrice, usage: TokenUsage): bigint {
  const cached = price.cached_input ?? price.input;
  const scaled =
    BigInt(usage.input) * price.input + BigInt(usage.cachedInput) * cached + BigInt(usage.output) * price.output;
  return ceilDiv(scaled, PER_MILLION);
}

/**
 * Reads the `usage` object of a chat completion, a Responses API response or an
 * embeddings response. Returns undefined when no token counts are present.
 */
export function readUsage(raw: unknown): TokenUsage | undefined {
  if (!isRecord(raw)) return undefined;
  const prompt = count(raw.prompt_tokens) ?? count(raw.input_tokens);
  const output = count(raw.completion_tokens) ?? count(raw.output_tokens) ?? 0;
  if (prompt === undefined) return undefined;
  const details = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : raw.input_tokens_details;
  const cached = Math.min(isRecord(details) ? (count(details.cached_tokens) ?? 0) : 0, prompt);
  return { input: prompt - cached, cachedInput: cached, output };
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
