/** Loading policies and data from files and directories, as `opa`'s loader does. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { fromJSON, makeObject, RObject, type Value } from '../value.js';

export interface Loaded {
  modules: Record<string, string>;
  data: Value;
}

/** Files under a path, each with the data prefix its directory gives it (as OPA's loader does). */
function walk(path: string, prefix: string[], out: { file: string; prefix: string[] }[]): void {
  const st = statPath(path);
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

/** A missing path is named plainly (not a raw ENOENT). */
export function statPath(path: string) {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${path}: no such file or directory`);
    throw e;
  }
}

/** An input document (JSON, or YAML for other extensions). */
export function readInput(file: string): unknown {
  statPath(file);
  const text = readFileSync(file, 'utf8');
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { intAsBigInt: true });
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
}

/** A usage or file error the CLI reports as one line. */
export class CliError extends Error {}
