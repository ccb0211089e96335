/** `rego test`: run test_* rules as `opa test` does. */
import type { Command } from 'commander';
import { parseModules } from '../policy.js';
import { compileForTests, coverageReport, runTests, testQueries } from '../tester.js';
import { benchmark } from './bench.js';
import type { Loaded } from './load.js';
import { load } from './load.js';
import { jsonOut, run } from './report.js';

export function testCommand(program: Command): void {
  program.command('test')
    .description('run test_* rules')
    .argument('<paths...>', 'files or directories')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .option('-v, --verbose', 'list every test')
    .option('--bench', 'benchmark each test instead of running it once (as opa test --bench)')
    .option('-c, --coverage', 'print the coverage report (OPA JSON format) instead of the results')
    .option('--benchtime <ms>', 'time per benchmark round, in ms', '1000')
    .action((paths: string[], o: { v0Compatible?: boolean; verbose?: boolean; bench?: boolean; benchtime: string; coverage?: boolean }) => run((ctx) => {
      const l = (ctx.loaded = load(paths));
      if (o.bench) { benchTests(l, o.v0Compatible ? 'v0' : 'v1', Number(o.benchtime)); return; }
      const seen = o.coverage ? new Set<string>() : undefined;
      const rs = runTests({ modules: l.modules, data: l.data, regoVersion: o.v0Compatible ? 'v0' : 'v1' }, undefined, seen);
      if (seen) {
        const modules = parseModules(l.modules, o.v0Compatible ? 'v0' : 'v1');
        process.stdout.write(`${jsonOut(coverageReport(modules, seen))}\n`);
        process.exitCode = rs.every((r) => r.skipped || r.passed) ? 0 : 1;
        return;
      }
      const ran = rs.filter((r) => !r.skipped);
      for (const r of rs) {
        if (r.skipped) process.stdout.write(`SKIPPED: ${r.name}\n`);
        else if (!r.passed) process.stdout.write(`${r.error ? 'ERROR' : 'FAIL'}: ${r.name}${r.error ? `\n  ${r.error}` : ''}\n`);
        else if (o.verbose) process.stdout.write(`PASS: ${r.name}\n`);
      }
      const passed = ran.filter((r) => r.passed).length;
      if (ran.length && passed < ran.length) process.stdout.write('-'.repeat(80) + '\n');
      process.stdout.write(`PASS: ${passed}/${ran.length}\n`);
      if (passed < ran.length) process.stdout.write(`FAIL: ${ran.length - passed}/${ran.length}\n`);
      if (ran.length === 0) process.stdout.write('no test_* rules found\n');
      process.exitCode = passed === ran.length && ran.length > 0 ? 0 : 1;
    }, !!o.v0Compatible));
}

/** One line per test: name, iterations, ns/op (opa test --bench's columns); a failing test is reported as such. */
function benchTests(l: Loaded, version: 'v0' | 'v1', benchtimeMs: number): void {
  const policy = compileForTests({ modules: l.modules, data: l.data, regoVersion: version });
  let failed = 0;
  for (const t of testQueries(policy)) {
    const q = policy.prepare(t.query);
    const pass = () => q.evalValues()[0]?.expressions[0] === true;
    if (!pass()) { failed++; process.stdout.write(`FAIL: ${t.name}\n`); continue; }
    const r = benchmark(pass, benchtimeMs);
    process.stdout.write(`${t.name}\t${String(r.N).padStart(10)}\t${String(r.nsPerOp).padStart(10)} ns/op\n`);
  }
  process.exitCode = failed ? 1 : 0;
}
