/** `rego check`: parse and compile, reporting errors as `opa check` does. */
import type { Command } from 'commander';
import { compile } from '../policy.js';
import { load } from './load.js';
import { run } from './report.js';

export function checkCommand(program: Command): void {
  program.command('check')
    .description('parse and compile modules, reporting errors')
    .argument('<paths...>', 'files or directories')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .action((paths: string[], o: { v0Compatible?: boolean }) => run((ctx) => {
      const l = (ctx.loaded = load(paths));
      compile({ modules: l.modules, data: l.data, regoVersion: o.v0Compatible ? 'v0' : 'v1' });
    }, !!o.v0Compatible));
}
