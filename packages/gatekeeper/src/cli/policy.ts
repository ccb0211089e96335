/** `gatekeeper policy check|test|eval`: the Rego engine with the OAGF entrypoint, on a bundle directory. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { evaluate } from '../gate/index.js';
import { isBundleUrl } from '../config/schema.js';
import { readLocalBundle } from '../policy/opa-bundle.js';
import { compileBundle } from '../policy/rego.js';
import { runPolicyTests } from '../policy/testing.js';
import { Input } from '../spec/index.js';

interface BundleOptions {
  config?: string;
}

/** Bundle directories (or one archive): given on the command line, else the config's policy.bundle, else ./policies. */
function bundleDirs(dirs: string[], options: BundleOptions): string[] {
  if (dirs.length) return dirs;
  if (!options.config) return ['policies'];
  const { bundle } = loadConfigFile(options.config).config.policy;
  if (bundle.some(isBundleUrl)) throw new Error(`policy.bundle of ${options.config} is a bundle server URL; name the bundle's directories or archive instead`);
  return bundle;
}

const LIMITS = { maxSteps: 10_000_000, timeoutMs: 5_000, explain: 'all' } as const;

export function policyCommand(): Command {
  const policy = new Command('policy').description('check, test and evaluate an OAGF policy bundle');

  policy
    .command('check')
    .description('compile a bundle and print its digest (exit 1 when it does not compile)')
    .argument('[dirs...]', 'bundle directories (default: policy.bundle of --config, else ./policies)')
    .option('-c, --config <file>', 'take the bundle from this gatekeeper.yaml')
    .action((dirs: string[], options: BundleOptions) => {
      const bundle = readLocalBundle(bundleDirs(dirs, options));
      compileBundle(bundle, LIMITS);
      console.log(`ok: ${Object.keys(bundle.modules).length} modules, digest ${bundle.digest}`);
    });

  policy
    .command('test')
    .description('run the test_* rules of a bundle, *_test.rego included (exit 1 on any failure)')
    .argument('[dirs...]', 'bundle directories (default: policy.bundle of --config, else ./policies)')
    .option('-c, --config <file>', 'take the bundle from this gatekeeper.yaml')
    .option('-r, --run <regex>', 'only tests whose data.<package>.<name> matches')
    .option('-v, --verbose', 'print passing tests too')
    .option('--json', 'print results as JSON')
    .action((dirs: string[], options: BundleOptions & { run?: string; verbose?: boolean; json?: boolean }) => {
      const results = runPolicyTests(bundleDirs(dirs, options), options.run ? { match: new RegExp(options.run) } : {});
      const failed = results.filter((r) => r.outcome !== 'pass');
      if (options.json) console.log(JSON.stringify(results, null, 2));
      else {
        for (const r of results) {
          if (r.outcome === 'pass' && !options.verbose) continue;
          console.log(`${r.outcome.toUpperCase().padEnd(5)} ${r.query} (${r.file}:${r.row})${r.error ? `\n      ${r.error}` : ''}`);
        }
        console.log(`${results.length - failed.length}/${results.length} passed`);
      }
      if (failed.length || results.length === 0) process.exitCode = 1;
    });

  policy
    .command('eval')
    .description('decide one OAGF input document and print the decision')
    .argument('[dirs...]', 'bundle directories (default: policy.bundle of --config, else ./policies)')
    .requiredOption('-i, --input <file>', 'OAGF input document (JSON), "-" for stdin')
    .option('-c, --config <file>', 'take the bundle from this gatekeeper.yaml')
    .action((dirs: string[], options: BundleOptions & { input: string }) => {
      const evaluator = compileBundle(readLocalBundle(bundleDirs(dirs, options)), LIMITS);
      const text = readFileSync(options.input === '-' ? 0 : options.input, 'utf8');
      const parsed = Input.safeParse(JSON.parse(text));
      if (!parsed.success) {
        throw new Error(`invalid input document:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
      }
      const result = evaluate(evaluator, parsed.data);
      console.log(JSON.stringify('decision' in result ? result.decision : { outcome: 'deny', fault: result.fault }, null, 2));
      if (!('decision' in result)) process.exitCode = 1;
    });

  return policy;
}
