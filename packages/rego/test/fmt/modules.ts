/**
 * The modules `rego fmt` is compared with `opa fmt` on: every .rego file of the repository's policies/ and
 * examples/ (formatted as v1), the v0 policies of test/v0-policies (`--v0-compatible` and `--rego-v1`), and every
 * module of the OPA conformance cases and of conformance/regressions (as v1, and with `--rego-v1` where OPA
 * parses them as v0).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { FormatOptions } from '../../src/format/format.js';

export type Mode = 'v1' | 'v0' | 'v0v1';
export interface FmtModule { key: string; mode: Mode; src: string; file: string }

export const REPO = new URL('../../../../', import.meta.url).pathname;
export const CONFORMANCE = process.env.OPA_CONFORMANCE_DIR ?? join(REPO, '../shared/conformance/');
export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

export const MODE_OPTIONS: Record<Mode, FormatOptions> = { v1: { target: 'v1' }, v0: { target: 'v0' }, v0v1: { target: 'v0v1' } };
/** The `opa fmt` flags of each mode. */
export const MODE_FLAGS: Record<Mode, string[]> = { v1: [], v0: ['--v0-compatible'], v0v1: ['--rego-v1'] };

function files(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

/** Repository files, keyed by mode and path. */
export function repoModules(): FmtModule[] {
  const out: FmtModule[] = [];
  for (const f of [...files(join(REPO, 'policies'), '.rego'), ...files(join(REPO, 'examples'), '.rego')]) {
    out.push({ key: relative(REPO, f), mode: 'v1', src: readFileSync(f, 'utf8'), file: f });
  }
  for (const f of files(join(REPO, 'packages/rego/test/v0-policies'), '.rego')) {
    for (const mode of ['v0', 'v0v1'] as const) out.push({ key: relative(REPO, f), mode, src: readFileSync(f, 'utf8'), file: f });
  }
  return out;
}

/** Conformance case modules, keyed by suite file, case and module index. */
export function conformanceModules(): FmtModule[] {
  const dirs: [string, string][] = [
    ['opa-v1', join(CONFORMANCE, 'opa-v1/cases')],
    ['opa-v1-recent', join(CONFORMANCE, 'opa-v1-recent/cases')],
    ['regressions', join(REPO, 'packages/rego/conformance/regressions')],
  ];
  const out: FmtModule[] = [];
  for (const [suite, dir] of dirs) {
    for (const f of files(dir, '.yaml')) {
      let c = 0;
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
        for (const kase of ((doc.toJS() ?? {}) as { cases?: { modules?: string[] }[] }).cases ?? []) {
          (kase.modules ?? []).forEach((src, m) => {
            for (const mode of ['v1', 'v0v1'] as const) out.push({ key: `${suite}/${relative(dir, f)}#${c}.${m}`, mode, src, file: `${suite}-${c}-${m}.rego` });
          });
          c++;
        }
      }
    }
  }
  return out;
}
