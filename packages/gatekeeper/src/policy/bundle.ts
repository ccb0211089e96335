/**
 * A policy bundle is one or more directories (e.g. the OAGF standard library plus a deployment's own rules and data),
 * merged as `opa run dir1 dir2` does: `.rego` modules (any depth) plus `data.json` / `data.yaml` files, whose content
 * is placed under `data.<dir path>` (root data at `data`). Files are named `<root dir name>/<path>`. The bundle digest
 * is sha256 over the sorted names and contents of exactly the files that were loaded, so the digest names what decided.
 * Test modules (`*_test.rego`) are loaded only when asked for (`policy test`), and never count in the digest.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface BundleFiles {
  /** The root directories, comma-separated, for messages. */
  dir: string;
  /** Relative file name → Rego source. */
  modules: Record<string, string>;
  data: Record<string, unknown>;
  digest: string;
  /** Rego syntax of the modules (an OPA bundle's manifest may say v0); v1 when absent. */
  regoVersion?: 'v0' | 'v1';
  /** An OPA bundle's manifest revision, for logs and status. */
  revision?: string;
}

export class BundleError extends Error {
  override name = 'BundleError';
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);

export function readBundle(roots: string | string[], options: { tests?: boolean } = {}): BundleFiles {
  const dirs = (Array.isArray(roots) ? roots : [roots]).map((d) => resolve(d));
  const dir = dirs.join(', ');
  const files: { name: string; path: string; rel: string }[] = [];
  for (const root of dirs) {
    try {
      if (!statSync(root).isDirectory()) throw new BundleError(`policy bundle ${root} is not a directory`);
      for (const rel of listFiles(root)) files.push({ name: `${basename(root)}/${rel}`, path: join(root, rel), rel });
    } catch (err) {
      if (err instanceof BundleError) throw err;
      throw new BundleError(`cannot read policy bundle ${root}: ${(err as Error).message}`);
    }
  }
  const modules: Record<string, string> = {};
  const data: Record<string, unknown> = {};
  const hash = createHash('sha256');
  for (const { name, path, rel } of files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const base = basename(rel);
    const isTest = base.endsWith('_test.rego');
    const isRego = base.endsWith('.rego');
    if (!isRego && !DATA_FILES.has(base)) continue;
    if (name in modules) throw new BundleError(`two bundle roots provide ${name}`);
    const text = readFileSync(path, 'utf8');
    if (isRego) {
      if (isTest && !options.tests) continue;
      modules[name] = text;
    } else {
      mergeData(data, rel, name, parseDataFile(name, text));
    }
    if (!isTest) hash.update(name).update('\0').update(text).update('\0');
  }
  if (!Object.keys(modules).some((m) => !m.endsWith('_test.rego'))) throw new BundleError(`policy bundle ${dir} has no .rego modules`);
  return { dir, modules, data, digest: `sha256:${hash.digest('hex')}` };
}

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, base));
    else if (entry.isFile()) out.push(relative(base, full).split(sep).join('/'));
  }
  return out;
}

function parseDataFile(rel: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = rel.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new BundleError(`${rel}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new BundleError(`${rel}: data file must hold an object`);
  return value as Record<string, unknown>;
}

function mergeData(root: Record<string, unknown>, rel: string, name: string, value: Record<string, unknown>): void {
  let node = root;
  for (const part of rel.split('/').slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node = node[part] = {} as Record<string, unknown>;
    else if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
    else throw new BundleError(`${name}: data path ${part} already holds a non-object value`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (k in node) throw new BundleError(`${name}: data key ${k} is defined twice`);
    node[k] = v;
  }
}
