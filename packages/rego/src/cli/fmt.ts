/** `rego fmt`: formats Rego source files as `opa fmt` does (same flags, same exit codes). */
import type { Command } from 'commander';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegoError } from '../errors.js';
import { formatSource, type FormatOptions } from '../format/format.js';
import { statPath } from './load.js';

interface FmtFlags { write?: boolean; list?: boolean; diff?: boolean; fail?: boolean; regoV1?: boolean; v0V1?: boolean; v0Compatible?: boolean; v1Compatible?: boolean }

/** A formatting failure: OPA's fmt exits 2 for these, 1 for anything else. */
class FmtError extends Error {}

/** Parse and output versions as OPA's flags choose them (--rego-v1 / --v0-v1 first, then --v0-compatible). */
function options(o: FmtFlags): FormatOptions {
  if (o.regoV1 || o.v0V1) return { target: 'v0v1', parseAs: o.v1Compatible ? 'v1' : 'v0' };
  if (o.v0Compatible) return { target: 'v0', parseAs: 'v0' };
  return { target: 'v1', parseAs: 'v1' };
}

/** .rego files under a path, in lexical order as Go's filepath.Walk visits them. */
function regoFiles(path: string): string[] {
  if (!statPath(path).isDirectory()) return path.endsWith('.rego') ? [path] : [];
  return readdirSync(path).sort().flatMap((f) => regoFiles(join(path, f)));
}

function format(src: string, file: string, o: FormatOptions): string {
  try {
    return formatSource(src, file, o);
  } catch (e) {
    if (e instanceof RegoError) {
      throw new FmtError(`failed to format Rego source file: ${e.errors.length} error${e.errors.length === 1 ? '' : 's'} occurred:\n${e.message}`);
    }
    throw e;
  }
}

/** The changed lines, `-` for the source's and `+` for the formatted ones (a plain line diff). */
function lineDiff(a: string, b: string): string {
  const x = a.split('\n'), y = b.split('\n');
  const n = x.length, m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: string[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { i++; j++; } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) out.push(`+${y[j++]}`); else out.push(`-${x[i++]}`);
  }
  return out.join('\n');
}

/** Formats one file per the flags, in OPA's order: --fail refuses a change before anything is written. */
function formatFile(file: string, flags: FmtFlags, o: FormatOptions): void {
  const src = readFileSync(file, 'utf8');
  const out = format(src, file, o);
  const changed = src !== out;
  if (flags.fail && !flags.list && !flags.diff && changed) throw new FmtError('unexpected diff');
  if (flags.list || flags.diff) {
    if (!changed) return;
    process.stdout.write(flags.list ? `${file}\n` : `${lineDiff(src, out)}\n`);
    if (flags.fail) throw new FmtError('unexpected diff');
  } else if (flags.write) {
    if (changed) writeFileSync(file, out);
  } else process.stdout.write(out);
}

export function fmtCommand(program: Command): void {
  program.command('fmt')
    .description('format Rego source files (stdin when no path is given)')
    .argument('[paths...]', 'files or directories')
    .option('-w, --write', 'overwrite the original source file')
    .option('-l, --list', 'list all files who would change when formatted')
    .option('-d, --diff', 'only display a diff of the changes')
    .option('--fail', 'non zero exit code on reformat')
    .option('--rego-v1', 'format module(s) to be compatible with both Rego v0 and v1')
    .option('--v0-v1', 'format module(s) to be compatible with both Rego v0 and v1')
    .option('--v0-compatible', 'opt-in to OPA features and behaviors prior to the OPA v1.0 release')
    .option('--v1-compatible', 'opt-in to OPA features and behaviors that are enabled by default in OPA v1.0')
    .action((paths: string[], flags: FmtFlags) => {
      const o = options(flags);
      try {
        if (paths.length === 0) {
          process.stdout.write(format(readFileSync(0, 'utf8'), 'stdin', o));
          return;
        }
        for (const p of paths) {
          for (const f of regoFiles(p)) formatFile(f, flags, o);
        }
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        process.exitCode = e instanceof FmtError ? 2 : 1;
      }
    });
}
