/**
 * Runs OPA's YAML evaluation test cases (see ../../../shared/conformance/opa-v1/README.md) against the engine.
 * Usage: npm run conformance -w @oagf/rego -- [--rego-version v0|v1] [--json FILE] [--verbose] <dir>...
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { compile, RegoError } from '../src/index.js';
import { fromJSON, jsonText, makeObject, RObject, RSet, toJSON, type Value } from '../src/value.js';

export interface CaseResult {
  folder: string;
  file: string;
  note: string;
  status: 'pass' | 'fail' | 'skip';
  reason?: string;
}

interface Case {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Record<string, unknown>[];
  sort_bindings?: boolean;
  want_error_code?: string;
  want_error?: string;
  strict_error?: boolean;
  env?: Record<string, string>;
  skip?: boolean;
  /** the case's modules are Rego v0 (opa eval --v0-compatible) */
  v0_compatible?: boolean;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

function deepSort(v: Value): Value {
  if (Array.isArray(v)) return v.map(deepSort).sort((a, b) => (jsonText(a) < jsonText(b) ? -1 : jsonText(a) > jsonText(b) ? 1 : 0));
  if (v instanceof RSet) return deepSort(v.values());
  if (v instanceof RObject) return makeObject(v.entries().map(([k, x]) => [k, deepSort(x)]));
  return v;
}

/** Canonical JSON text of a result row (sets as sorted arrays, exact numbers). */
function rowText(row: Value, sort: boolean): string {
  return jsonText(sort ? deepSort(row) : row);
}

/** The harness plays the host for net.lookup_ip_addr (the engine has no resolver of its own). */
const host = {
  lookupIpAddr(name: string): string[] {
    try {
      const out = execFileSync('getent', ['ahosts', name], { encoding: 'utf8', timeout: 5000 });
      return [...new Set(out.split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean))];
    } catch {
      return [];
    }
  },
};

function runCase(c: Case, suiteVersion: 'v0' | 'v1'): { status: 'pass' | 'fail'; reason?: string } {
  const regoVersion = c.v0_compatible ? 'v0' : suiteVersion;
  const modules: Record<string, string> = {};
  (c.modules ?? []).forEach((m, i) => { modules[`test-${i}.rego`] = m; });
  const wantsError = c.want_error_code !== undefined || c.want_error !== undefined;
  try {
    const policy = compile({ modules, data: c.data ?? {}, regoVersion, strictBuiltinErrors: c.strict_error ?? false, env: c.env ?? {}, host, print: () => undefined });
    let input: unknown = c.input;
    if (c.input_term !== undefined) {
      const rows = compile({ modules: {} }).prepare(`__input__ = ${c.input_term}`).evalValues();
      input = rows[0]?.bindings.__input__;
    }
    const rows = policy.prepare(c.query).evalValues({ input, budget: { timeoutMs: 10_000, maxSteps: 50_000_000 } });
    if (wantsError) return { status: 'fail', reason: `expected error ${c.want_error_code ?? ''} ${c.want_error ?? ''} but got ${rows.length} result(s)` };
    const got = rows.map((r) => rowText(fromJSON(toJSON(makeObject(Object.entries(r.bindings)))), c.sort_bindings ?? false)).sort();
    const want = (c.want_result ?? []).map((r) => rowText(fromJSON(r), c.sort_bindings ?? false)).sort();
    const gotSet = [...new Set(got)], wantSet = [...new Set(want)];
    if (gotSet.length === wantSet.length && gotSet.every((g, i) => g === wantSet[i])) return { status: 'pass' };
    return { status: 'fail', reason: `result mismatch: got ${clip(gotSet.join(' | '))} want ${clip(wantSet.join(' | '))}` };
  } catch (e) {
    if (!(e instanceof RegoError)) return { status: 'fail', reason: `crash: ${clip(String((e as Error)?.stack ?? e))}` };
    if (!wantsError) return { status: 'fail', reason: `unexpected error: ${clip(e.message)}` };
    const codes = e.errors.map((x) => x.code);
    if (c.want_error_code && !codes.includes(c.want_error_code)) return { status: 'fail', reason: `error code ${codes.join(',')} want ${c.want_error_code}: ${clip(e.message)}` };
    if (c.want_error && !e.message.includes(c.want_error)) return { status: 'fail', reason: `error text ${clip(e.message)} want ${clip(c.want_error)}` };
    return { status: 'pass' };
  }
}

function clip(s: string, n = 300): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n)}…` : one;
}

export function runConformance(dirs: string[], opts: { regoVersion?: 'v0' | 'v1'; onFolder?: (folder: string, rs: CaseResult[]) => void } = {}): CaseResult[] {
  const results: CaseResult[] = [];
  for (const dir of dirs) {
    const files = yamlFiles(dir);
    const byFolder = new Map<string, string[]>();
    for (const f of files) {
      const folder = relative(dir, dirname(f)) || basename(dir);
      if (!byFolder.has(folder)) byFolder.set(folder, []);
      byFolder.get(folder)!.push(f);
    }
    for (const [folder, fs] of byFolder) {
      const rs: CaseResult[] = [];
      for (const f of fs) {
        for (const doc of parseAllDocuments(readFileSync(f, 'utf8'), { intAsBigInt: true })) {
          const cases = ((doc.toJS() as { cases?: Case[] })?.cases) ?? [];
          for (const c of cases) {
            if (c.skip) { rs.push({ folder, file: f, note: c.note, status: 'skip', reason: 'marked skip' }); continue; }
            const r = runCase(c, opts.regoVersion ?? 'v1');
            rs.push({ folder, file: f, note: c.note, ...r });
          }
        }
      }
      opts.onFolder?.(folder, rs);
      results.push(...rs);
    }
  }
  return results;
}

function main(argv: string[]): void {
  let regoVersion: 'v0' | 'v1' = 'v1';
  let jsonOut: string | undefined;
  let verbose = false;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rego-version') regoVersion = argv[++i] as 'v0' | 'v1';
    else if (a === '--json') jsonOut = argv[++i];
    else if (a === '--verbose' || a === '-v') verbose = true;
    else dirs.push(a);
  }
  if (dirs.length === 0) {
    process.stderr.write('usage: conformance [--rego-version v0|v1] [--json FILE] [--verbose] <dir>...\n');
    process.exit(2);
  }
  if (regoVersion !== 'v0' && regoVersion !== 'v1') { process.stderr.write(`unknown rego version ${regoVersion}\n`); process.exit(2); }
  const results = runConformance(dirs, {
    regoVersion,
    onFolder(folder, rs) {
      const p = rs.filter((r) => r.status === 'pass').length;
      const f = rs.filter((r) => r.status === 'fail');
      process.stdout.write(`${f.length ? 'FAIL' : 'ok  '} ${folder}: ${p}/${rs.length}\n`);
      if (verbose || f.length) for (const r of f) process.stdout.write(`     - ${r.note}: ${r.reason}\n`);
    },
  });
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
  const n = (s: string) => results.filter((r) => r.status === s).length;
  process.stdout.write(`${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped\n`);
  process.exitCode = n('fail') ? 1 : 0;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) main(process.argv.slice(2));
