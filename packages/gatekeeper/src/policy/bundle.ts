/**
 * A policy bundle is a directory: `.rego` modules (any depth) plus `data.json` / `data.yaml` files, whose content is
 * placed under `data.<dir path>` (root data at `data`), as in OPA bundles. The bundle digest is sha256 over the sorted
 * relative file names and contents of exactly the files that were loaded, so the digest names what decided.
 * Test modules (`*_test.rego`) are loaded only when asked for (`policy test`), and never count in the digest.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface BundleFiles {
  dir: string;
  /** Relative file name → Rego source. */
  modules: Record<string, string>;
  data: Record<string, unknown>;
  digest: string;
}

export class BundleError extends Error {
  override name = 'BundleError';
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);

export function readBundle(dir: string, options: { tests?: boolean } = {}): BundleFiles {
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new BundleError(`policy bundle ${dir} is not a directory`);
    files = listFiles(dir);
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(`cannot read policy bundle ${dir}: ${(err as Error).message}`);
  }
  const modules: Record<string, string> = {};
  const data: Record<string, unknown> = {};
  const hash = createHash('sha256');
  let loaded = 0;
  for (const rel of files.sort()) {
    const base = rel.split('/').pop()!;
    const isTest = base.endsWith('_test.rego');
    const isRego = base.endsWith('.rego');
    if (!isRego && !DATA_FILES.has(base)) continue;
    const text = readFileSync(join(dir, rel), 'utf8');
    if (isRego) {
      if (isTest && !options.tests) continue;
      modules[rel] = text;
    } else {
      mergeData(data, rel, parseDataFile(rel, text));
    }
    if (!isTest) {
      hash.update(rel).update('\0').update(text).update('\0');
      loaded++;
    }
  }
  if (loaded === 0 || Object.keys(modules).length === 0) throw new BundleError(`policy bundle ${dir} has no .rego modules`);
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

function mergeData(root: Record<string, unknown>, rel: string, value: Record<string, unknown>): void {
  let node = root;
  for (const part of rel.split('/').slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node = node[part] = {} as Record<string, unknown>;
    else if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
    else throw new BundleError(`${rel}: data path ${part} already holds a non-object value`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (k in node) throw new BundleError(`${rel}: data key ${k} is defined twice`);
    node[k] = v;
  }
}
