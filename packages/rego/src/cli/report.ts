/** How the CLI reports errors and prints JSON. */
import { RegoError } from '../errors.js';
import { parseModule } from '../parser.js';
import { CliError, type Loaded } from './load.js';

/** Prints an error as OPA does (`N errors occurred:` and one `file:row: code: message` line each). */
export function printError(e: unknown, hint?: string): void {
  if (e instanceof RegoError) {
    process.stderr.write(`${e.errors.length} error${e.errors.length === 1 ? '' : 's'} occurred:\n${e.message}\n`);
  } else if (e instanceof CliError) {
    process.stderr.write(`error: ${e.message}\n`);
  } else {
    process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
  }
  if (hint) process.stderr.write(`${hint}\n`);
}

/** When v1 parsing failed but every module parses as Rego v0, the user most likely wants --v0-compatible. */
export function v0Hint(e: unknown, l: Loaded | undefined, v0: boolean): string | undefined {
  if (v0 || !l || !(e instanceof RegoError) || !e.errors.some((x) => x.code === 'rego_parse_error')) return undefined;
  try {
    for (const [file, src] of Object.entries(l.modules)) parseModule(src, file, 'v0');
  } catch {
    return undefined;
  }
  return 'hint: the modules parse as Rego v0: run with --v0-compatible (or add `import rego.v1` after upgrading them)';
}

/** Indented JSON in the key order OPA prints; integers beyond 2^53 (bigint) written exactly. */
export function jsonOut(x: unknown): string {
  const marker = '@@rego-bigint@@';
  return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${marker}${v}` : v), 2)
    .replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

/** Runs a command body: errors are printed (with the v0 hint where it applies) and set exit code 1. */
export function run(body: (ctx: { loaded?: Loaded }) => void, v0 = false): void {
  const ctx: { loaded?: Loaded } = {};
  try {
    body(ctx);
  } catch (e) {
    printError(e, v0Hint(e, ctx.loaded, v0));
    process.exitCode = 1;
  }
}
