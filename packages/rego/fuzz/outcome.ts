/** One program's outcome, in a form both engines' outputs reduce to: canonical JSON of `data.p`, or an error code. */
import { compile, RegoError } from '../src/index.js';
import type { Program } from './generate.js';

export type Outcome = { kind: 'value'; json: string } | { kind: 'undefined' } | { kind: 'error'; code: string; message: string };

/** JSON with object keys sorted, so two engines' documents compare as text. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

/** Evaluates a program with this engine; anything but a RegoError is a crash and is thrown. */
export function ours(p: Program, budget = { maxSteps: 2_000_000, timeoutMs: 2_000 }): Outcome {
  try {
    const rs = compile({ modules: { 'p.rego': p.module }, print: () => undefined }).prepare(p.query).eval({ input: p.input, budget });
    if (rs.results.length === 0) return { kind: 'undefined' };
    return { kind: 'value', json: canonical(rs.results[0].expressions[0].value) };
  } catch (e) {
    if (e instanceof RegoError) return { kind: 'error', code: e.errors[0]?.code ?? 'unknown', message: e.message };
    throw e;
  }
}

/** `opa eval --format json` output reduced the same way. */
export function fromOpaOutput(stdout: string): Outcome {
  const out = JSON.parse(stdout) as { result?: { expressions: { value: unknown }[] }[]; errors?: { code?: string; message: string }[] };
  if (out.errors?.length) {
    const e = out.errors[0];
    // parse errors reach opa's CLI wrapped by its loader: the code is inside the message
    const code = e.code ?? /\b(rego_\w+_error)\b/.exec(e.message)?.[1] ?? 'unknown';
    return { kind: 'error', code, message: e.message };
  }
  if (!out.result?.length) return { kind: 'undefined' };
  return { kind: 'value', json: canonical(out.result[0].expressions[0].value) };
}

export function same(a: Outcome, b: Outcome): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'value') return a.json === (b as typeof a).json;
  if (a.kind === 'error') return a.code === (b as typeof a).code;
  return true;
}
