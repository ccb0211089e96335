#!/usr/bin/env node
/** `rego` CLI, modelled on `opa`: one file per command under cli/. */
import { Command } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { benchCommand } from './cli/bench.js';
import { buildCommand } from './cli/build.js';
import { checkCommand } from './cli/check.js';
import { inspectCommand } from './cli/inspect.js';
import { evalCommand } from './cli/eval.js';
import { fmtCommand } from './cli/fmt.js';
import { testCommand } from './cli/test.js';

export { load } from './cli/load.js';

/** The package version (src/ and dist/ both sit one level below package.json). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function main(argv: string[]): void {
  const program = new Command();
  program.name('rego').description('Rego policy engine (OPA-compatible)').version(version(), '--version', 'print the version');
  evalCommand(program);
  testCommand(program);
  checkCommand(program);
  buildCommand(program);
  inspectCommand(program);
  benchCommand(program);
  fmtCommand(program);
  program.parse(argv);
}

/** True when this file is the program being run (directly, not through bin/rego.js). */
function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) main(process.argv);
