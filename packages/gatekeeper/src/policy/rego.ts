/**
 * Compiles a bundle with @oagf/rego into a PolicyEvaluator for the OAGF entrypoint `data.oagf.decision`.
 * Evaluation runs with a step and time budget; going over it is a `policy_budget` fault, any other error a
 * `policy_error` fault — both deny.
 *
 * The engine reports every rule that was evaluated; by the OAGF convention (rules add reasons to `deny` and
 * `escalate` in the entrypoint's package), the explanation of a deny or escalate keeps the definitions of that set
 * that fired, plus the entrypoint — the rules that produced the outcome. Policies without that convention keep all.
 *
 * Explanations cost about as much as a third of an evaluation, so by default (`refusals`) only decisions a human
 * will read — deny and escalate — are re-evaluated with explanation; `all` explains every decision, `none` none.
 */
import { BudgetExceededError, compile, RegoError } from '@oagf/rego';
import { BundleError, type BundleFiles } from './bundle.js';
import { PolicyEvalError, type PolicyEvaluator } from './engine.js';
import type { ExplanationEntry } from '../spec/index.js';

export const ENTRYPOINT = 'data.oagf.decision';
const ENTRYPOINT_PACKAGE = 'data.oagf';

export interface EvalLimits {
  maxSteps: number;
  timeoutMs: number;
  explain: ExplainMode;
}

export type ExplainMode = 'all' | 'refusals' | 'none';

export function compileBundle(bundle: BundleFiles, limits: EvalLimits, query = ENTRYPOINT): PolicyEvaluator {
  let prepared: ReturnType<ReturnType<typeof compile>['prepare']>;
  try {
    prepared = compile({ modules: bundle.modules, data: bundle.data, regoVersion: bundle.regoVersion ?? 'v1', strictBuiltinErrors: true }).prepare(query);
  } catch (err) {
    throw new BundleError(`policy bundle ${bundle.dir} does not compile:\n${describeRegoError(err)}`);
  }
  return {
    digest: bundle.digest,
    evaluate(input) {
      const run = (explain: boolean) => {
        try {
          return prepared.eval({ input, budget: { maxSteps: limits.maxSteps, timeoutMs: limits.timeoutMs }, explain });
        } catch (err) {
          throw new PolicyEvalError(isBudgetError(err) ? 'policy_budget' : 'policy_error', `policy evaluation failed: ${describeRegoError(err)}`);
        }
      };
      let out = run(limits.explain === 'all');
      const value = out.results[0]?.expressions[0]?.value;
      if (limits.explain === 'refusals' && (value as { outcome?: unknown } | undefined)?.outcome !== 'allow') out = run(true);
      return { value, explanation: focus((out.explanation ?? []).map(explanationEntry), value) };
    },
  };
}

export function describeRegoError(err: unknown): string {
  if (err instanceof RegoError && err.errors?.length) {
    return err.errors
      .map((e) => `  ${e.location ? `${e.location.file}:${e.location.row}:${e.location.col}: ` : ''}${e.code}: ${e.message}`)
      .join('\n');
  }
  return `  ${(err as Error)?.message ?? String(err)}`;
}

function isBudgetError(err: unknown): boolean {
  return err instanceof BudgetExceededError;
}

/** The engine reports locations as "file:row[:col]"; the decision document carries them structured. */
function explanationEntry(e: { rule: string; location?: unknown }): ExplanationEntry {
  const m = typeof e.location === 'string' ? /^(.*):(\d+)(?::(\d+))?$/.exec(e.location) : null;
  return m ? { rule: e.rule, location: { file: m[1]!, row: Number(m[2]), col: Number(m[3] ?? 1) } } : { rule: e.rule };
}

function focus(entries: ExplanationEntry[], value: unknown): ExplanationEntry[] {
  const outcome = (value as { outcome?: unknown } | undefined)?.outcome;
  if (outcome !== 'deny' && outcome !== 'escalate') return entries;
  const producing = entries.filter((e) => e.rule === `${ENTRYPOINT_PACKAGE}.${outcome}`);
  if (producing.length === 0) return entries;
  return [...producing, ...entries.filter((e) => e.rule === ENTRYPOINT)];
}
