/** `rego test`: run test_* rules as `opa test` does. */
import type { Command } from 'commander';
import { runTests } from '../tester.js';
import { load } from './load.js';
import { run } from './report.js';

export function testCommand(program: Command): void {
  program.command('test')
    .description('run test_* rules')
    .argument('<paths...>', 'files or directories')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .option('-v, --verbose', 'list every test')
    .action((paths: string[], o: { v0Compatible?: boolean; verbose?: boolean }) => run((ctx) => {
      const l = (ctx.loaded = load(paths));
      const rs = runTests({ modules: l.modules, data: l.data, regoVersion: o.v0Compatible ? 'v0' : 'v1' });
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
