#!/usr/bin/env node
/** `rego` CLI: eval, test and check, modelled on `opa eval` / `opa test` / `opa check`. */
import { Command } from 'commander';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { RegoError } from './errors.js';
import { compile, type Policy } from './policy.js';
import { runTests } from './tester.js';
import { jsonText, fromJSON, makeObject, RObject, type Value } from './value.js';

interface Loaded {
  modules: Record<string, string>;
  data: Value;
}

/** Files under a path, each with the data prefix its directory gives it (as OPA's loader does). */
function walk(path: string, prefix: string[], out: { file: string; prefix: string[] }[]): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name.startsWith('.')) continue;
      const child = join(path, name);
      walk(child, statSync(child).isDirectory() ? [...prefix, name] : prefix, out);
    }
  } else out.push({ file: path, prefix });
}

/**
 * Loads .rego modules and .json/.yaml data files. Data from a file in a sub-directory of a given
 * directory is placed under that sub-directory's path (dir/users/data.json → data.users), as `opa` does.
 * YAML that is not a single data document (e.g. Kubernetes manifests beside a policy) is skipped with a warning.
 */
export function load(paths: string[], warn: (msg: string) => void = (m) => process.stderr.write(`warning: ${m}\n`)): Loaded {
  const files: { file: string; prefix: string[] }[] = [];
  for (const p of paths) walk(p, [], files);
  const modules: Record<string, string> = {};
  let data: Value = new RObject();
  for (const { file: f, prefix } of files) {
    if (f.endsWith('.rego')) modules[f] = readFileSync(f, 'utf8');
    else if (/\.(json|ya?ml)$/.test(f)) {
      const text = readFileSync(f, 'utf8');
      let doc: unknown;
      try {
        if (f.endsWith('.json')) doc = JSON.parse(text);
        else {
          const docs = parseAllDocuments(text, { intAsBigInt: true });
          if (!('length' in docs) || docs.length !== 1 || docs[0].errors.length) throw new Error('not a single YAML document');
          doc = docs[0].toJS();
        }
      } catch (e) {
        if (f.endsWith('.json')) throw new Error(`${f}: ${(e as Error).message}`);
        warn(`${f}: skipped (${(e as Error).message})`);
        continue;
      }
      if (doc === null || doc === undefined) continue;
      let v = fromJSON(doc);
      for (let i = prefix.length - 1; i >= 0; i--) v = makeObject([[prefix[i], v]]);
      data = merge(data, v, f);
    }
  }
  return { modules, data };
}

function merge(a: Value, b: Value, file: string): Value {
  if (!(a instanceof RObject) || !(b instanceof RObject)) throw new Error(`${file}: data must be an object to merge at its path`);
  const out = new RObject();
  for (const [k, v] of a.entries()) out.set(k, v);
  for (const [k, v] of b.entries()) {
    const cur = out.get(k);
    out.set(k, cur instanceof RObject && v instanceof RObject ? merge(cur, v, file) : v);
  }
  return out;
}

function printError(e: unknown): void {
  if (e instanceof RegoError) {
    process.stderr.write(`${e.errors.length} error${e.errors.length === 1 ? '' : 's'} occurred:\n${e.message}\n`);
  } else {
    process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
  }
}

function compileLoaded(l: Loaded, v0: boolean, strict = false): Policy {
  return compile({ modules: l.modules, data: l.data, regoVersion: v0 ? 'v0' : 'v1', strictBuiltinErrors: strict });
}

export function main(argv: string[]): void {
  const program = new Command();
  program.name('rego').description('Rego policy engine (OPA-compatible): eval, test, check');

  program.command('eval')
    .description('evaluate a query')
    .argument('<query>', 'Rego query, e.g. data.authz.allow')
    .option('-d, --data <path>', 'policy (.rego) or data (.json/.yaml) file or directory (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-i, --input <file>', 'input document (JSON or YAML)')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .option('--strict-builtin-errors', 'treat builtin errors as fatal')
    .option('--explain', 'list the rules that contributed to the result')
    .action((query: string, o: { data: string[]; input?: string; v0Compatible?: boolean; strictBuiltinErrors?: boolean; explain?: boolean }) => {
      try {
        const l = load(o.data);
        const policy = compileLoaded(l, !!o.v0Compatible, !!o.strictBuiltinErrors);
        let input: unknown;
        if (o.input) {
          const text = readFileSync(o.input, 'utf8');
          input = o.input.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { intAsBigInt: true });
        }
        const res = policy.prepare(query).eval({ input, explain: o.explain });
        const result = res.results.map((r) => ({
          expressions: r.expressions.map((x) => ({ value: x.value, text: x.text, location: { row: 1, col: 1 } })),
          ...(Object.keys(r.bindings).length ? { bindings: r.bindings } : {}),
        }));
        process.stdout.write(`${jsonOut(result.length ? { result, ...(res.explanation ? { explanation: res.explanation } : {}) } : {})}\n`);
      } catch (e) {
        printError(e);
        process.exitCode = 1;
      }
    });

  program.command('test')
    .description('run test_* rules')
    .argument('<paths...>', 'files or directories')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .option('-v, --verbose', 'list every test')
    .action((paths: string[], o: { v0Compatible?: boolean; verbose?: boolean }) => {
      try {
        const l = load(paths);
        const rs = runTests({ modules: l.modules, data: l.data, regoVersion: o.v0Compatible ? 'v0' : 'v1' });
        const ran = rs.filter((r) => !r.skipped);
        for (const r of rs) {
          if (r.skipped) process.stdout.write(`SKIPPED: data.${r.name.replace(/^data\./, '')}\n`);
          else if (!r.passed) process.stdout.write(`${r.error ? 'ERROR' : 'FAIL'}: ${r.name}${r.error ? `\n  ${r.error}` : ''}\n`);
          else if (o.verbose) process.stdout.write(`PASS: ${r.name}\n`);
        }
        const passed = ran.filter((r) => r.passed).length;
        if (ran.length && passed < ran.length) process.stdout.write('-'.repeat(80) + '\n');
        process.stdout.write(`PASS: ${passed}/${ran.length}\n`);
        if (passed < ran.length) process.stdout.write(`FAIL: ${ran.length - passed}/${ran.length}\n`);
        if (ran.length === 0) process.stdout.write('no test_* rules found\n');
        process.exitCode = passed === ran.length && ran.length > 0 ? 0 : 1;
      } catch (e) {
        printError(e);
        process.exitCode = 1;
      }
    });

  program.command('check')
    .description('parse and compile modules, reporting errors')
    .argument('<paths...>', 'files or directories')
    .option('--v0-compatible', 'parse modules as Rego v0')
    .action((paths: string[], o: { v0Compatible?: boolean }) => {
      try {
        compileLoaded(load(paths), !!o.v0Compatible);
      } catch (e) {
        printError(e);
        process.exitCode = 1;
      }
    });

  program.parse(argv);
}

/** Indented JSON in the key order OPA prints; integers beyond 2^53 (bigint) written exactly. */
function jsonOut(x: unknown): string {
  const marker = '@@rego-bigint@@';
  return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${marker}${v}` : v), 2)
    .replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

/** True when this file is the program being run (directly or through an npm bin symlink). */
function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) main(process.argv);
