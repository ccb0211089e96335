/** `rego check`: parse, compile and type-check, reporting errors as `opa check` does. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../policy.js';
import { CliError, load, statPath } from './load.js';
import { run } from './report.js';

/** `-s FILE` is the input's schema; `-s DIR` holds it as input.json (as OPA's schema directories do). */
function inputSchema(path: string): unknown {
  const file = statPath(path).isDirectory() ? join(path, 'input.json') : path;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
}

export function checkCommand(program: Command): void {
  program.command('check')
    .description('parse, compile and type-check modules, reporting errors')
    .argument('<paths...>', 'files or directories')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .option('--strict', 'OPA strict mode: unused imports, assigned variables and function arguments are errors')
    .option('-s, --schema <path>', 'JSON schema of input (a file, or a directory holding input.json)')
    .action((paths: string[], o: { v0Compatible?: boolean; strict?: boolean; schema?: string }) => run((ctx) => {
      const l = (ctx.loaded = load(paths));
      compile({ modules: l.modules, data: l.data, regoVersion: o.v0Compatible ? 'v0' : 'v1', strict: !!o.strict, inputSchema: o.schema ? inputSchema(o.schema) : undefined });
    }, !!o.v0Compatible));
}
