/**
 * `gatekeeper policy test`: runs every `test_*` rule of a bundle (including `*_test.rego` modules), as `opa test`
 * does: a test passes when its rule evaluates to true, fails when it is false or undefined, errors when evaluation
 * throws.
 */
import { compile } from '@oagf/rego';
import { readBundle } from './bundle.js';
import { describeRegoError } from './rego.js';

export interface TestResult {
  name: string;
  /** data.<package>.<name> */
  query: string;
  file: string;
  row: number;
  outcome: 'pass' | 'fail' | 'error';
  error?: string;
  ms: number;
}

export function runPolicyTests(dir: string | string[], options: { match?: RegExp; maxSteps?: number; timeoutMs?: number } = {}): TestResult[] {
  const bundle = readBundle(dir, { tests: true });
  const policy = compile({ modules: bundle.modules, data: bundle.data, regoVersion: 'v1', strictBuiltinErrors: true });
  const seen = new Set<string>();
  const results: TestResult[] = [];
  for (const module of policy.parsed) {
    for (const rule of module.rules) {
      const name = ruleName(rule.head.ref[0]);
      if (!name?.startsWith('test_') || rule.head.args || rule.head.ref.length > 1) continue;
      const pkg = module.package[0] === 'data' ? module.package.slice(1) : module.package;
      const query = `data.${[...pkg, name].join('.')}`;
      if (seen.has(query) || (options.match && !options.match.test(query))) continue;
      seen.add(query);
      const started = performance.now();
      let outcome: TestResult['outcome'];
      let error: string | undefined;
      try {
        const out = policy.prepare(query).eval({ budget: { maxSteps: options.maxSteps ?? 10_000_000, timeoutMs: options.timeoutMs ?? 5_000 } });
        outcome = out.results[0]?.expressions[0]?.value === true ? 'pass' : 'fail';
      } catch (err) {
        outcome = 'error';
        error = describeRegoError(err).trim();
      }
      results.push({ name, query, file: module.file, row: rule.loc.row, outcome, ...(error ? { error } : {}), ms: performance.now() - started });
    }
  }
  return results;
}

function ruleName(term: { t: string; name?: string; v?: unknown } | undefined): string | undefined {
  if (term?.t === 'var') return term.name;
  if (term?.t === 'scalar' && typeof term.v === 'string') return term.v;
  return undefined;
}
