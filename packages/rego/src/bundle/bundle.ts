/**
 * OPA bundles: build one (`opa build`'s layout: policies at their paths, the data at /data.json, a /.manifest,
 * an optional /.signatures.json), read one from a tar.gz or a directory, and verify its signature the way OPA
 * does before anything of it is used.
 */
import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compile, type CompileOptions, type Policy } from '../policy.js';
import { fileDigest } from './hash.js';
import { decodeJws, signJws, verifyJws } from './jws.js';
import { readTarGz, writeTarGz, type TarEntry } from './tar.js';

export interface Manifest {
  revision: string;
  roots: string[];
  /** 0 for Rego v0 modules, 1 (the default) for v1 */
  rego_version?: number;
  metadata?: Record<string, unknown>;
}

export interface Bundle {
  manifest: Manifest;
  /** the data document, merged from every data.json / data.yaml at its directory's path */
  data: Record<string, unknown>;
  /** policies by bundle path (`/authz/policy.rego`) */
  modules: { path: string; source: string }[];
  /** the compact JWS of .signatures.json, when the bundle is signed */
  signature?: string;
}

export interface SigningOptions {
  /** PEM private key (RS*, PS*, ES*, EdDSA) or HMAC secret (HS*) */
  key: string | Buffer | KeyObject;
  algorithm: string;
  /** written as the token's `keyid` claim, as `opa build --signing-key ... ` does with a key id */
  keyId?: string;
  /** further claims (e.g. `scope`) */
  claims?: Record<string, unknown>;
}

export interface BuildOptions {
  /** bundle path (e.g. `authz/policy.rego`) → source */
  modules: Record<string, string>;
  data?: Record<string, unknown>;
  revision?: string;
  roots?: string[];
  regoVersion?: 'v0' | 'v1';
  metadata?: Record<string, unknown>;
  signing?: SigningOptions;
}

export interface VerificationKey {
  /** PEM public key or certificate, or the HMAC secret */
  key: string | Buffer | KeyObject;
  algorithm: string;
  scope?: string;
}

export interface VerificationOptions {
  /** keys by key id (OPA's `keys` config) */
  keys: Record<string, VerificationKey>;
  /** the key to use, whatever the token names (OPA's `verification_key_id`) */
  keyId?: string;
  scope?: string;
  /** bundle paths left out of verification (glob patterns as in OPA's `exclude_files`) */
  exclude?: string[];
}

export interface ReadOptions {
  /** verify the signature: a signed bundle without this is refused, as OPA refuses it */
  verification?: VerificationOptions;
  /** refuse archives larger than this once decompressed (default 1 GiB) */
  maxBytes?: number;
  /** read a signed bundle without verifying it (inspection only, like opa inspect) */
  skipVerification?: boolean;
}

export class BundleError extends Error {}

const SIGNATURES = '.signatures.json';
const MANIFEST = '.manifest';
const clean = (p: string) => `/${p.replace(/^\.?\/+/, '')}`;

function manifestOf(o: BuildOptions): Manifest {
  const m: Manifest = { revision: o.revision ?? '', roots: o.roots ?? [''] };
  m.rego_version = o.regoVersion === 'v0' ? 0 : 1;
  if (o.metadata) m.metadata = o.metadata;
  return m;
}

/** Builds a bundle as a tar.gz, signed when `signing` is given. */
export function buildBundle(o: BuildOptions): Buffer {
  const files: TarEntry[] = [];
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  files.push({ path: '/data.json', data: json(o.data ?? {}) });
  for (const [path, src] of Object.entries(o.modules)) files.push({ path: clean(path), data: Buffer.from(src) });
  files.push({ path: `/${MANIFEST}`, data: json(manifestOf(o)) });
  if (o.signing) {
    const s = o.signing;
    // OPA lists the policies first, then data.json, then the manifest
    const order = [...files.filter((f) => f.path.endsWith('.rego')), ...files.filter((f) => !f.path.endsWith('.rego'))];
    const payload = { files: order.map((f) => ({ name: f.path.slice(1), hash: fileDigest(f.path, f.data), algorithm: 'SHA-256' })), ...(s.keyId && !s.claims ? { keyid: s.keyId } : {}), ...s.claims };
    files.push({ path: `/${SIGNATURES}`, data: json({ signatures: [signJws(payload, s.algorithm, s.key)] }) });
  }
  return writeTarGz(files);
}

/** Reads a bundle from tar.gz bytes or a directory path, verifying it when it is signed. */
export function readBundle(source: Buffer | string, opts: ReadOptions = {}): Bundle {
  const entries = typeof source === 'string' && statSync(source).isDirectory() ? readDirectory(source) : readTarGz(typeof source === 'string' ? readFileSync(source) : source, opts.maxBytes ?? 2 ** 30);
  return fromEntries(entries, opts);
}

function readDirectory(dir: string): TarEntry[] {
  const out: TarEntry[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: `/${relative(dir, p).split(sep).join('/')}`, data: readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}

const globToRegExp = (g: string) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '.*').replace(/\?/g, '[^/]')}$`);

function fromEntries(entries: TarEntry[], opts: ReadOptions): Bundle {
  const byPath = new Map(entries.map((e) => [clean(e.path), e.data]));
  const sigFile = byPath.get(`/${SIGNATURES}`);
  const signature = sigFile ? signatureToken(sigFile) : undefined;
  const v = opts.verification;
  if (!signature && v?.keyId && !opts.skipVerification) throw new BundleError('bundle missing .signatures.json file');
  if (signature && !opts.skipVerification) {
    if (!v) throw new BundleError('verification key not provided');
    verifyFiles(byPath, signature, v);
  }
  const manifest: Manifest = { revision: '', roots: [''] };
  const m = byPath.get(`/${MANIFEST}`);
  if (m) {
    try {
      Object.assign(manifest, JSON.parse(m.toString('utf8')));
    } catch (e) {
      throw new BundleError(`bundle .manifest: ${(e as Error).message}`);
    }
  }
  const data: Record<string, unknown> = {};
  const modules: Bundle['modules'] = [];
  for (const [path, bytes] of byPath) {
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (path.endsWith('.rego')) modules.push({ path, source: bytes.toString('utf8') });
    else if (base === 'data.json' || base === 'data.yaml') {
      let doc: unknown;
      try {
        doc = base === 'data.json' ? JSON.parse(bytes.toString('utf8')) : parseYaml(bytes.toString('utf8'));
      } catch (e) {
        throw new BundleError(`bundle ${path}: ${(e as Error).message}`);
      }
      const at = path.split('/').slice(1, -1);
      const top = doc && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc).map((k) => [...at, k]) : [at];
      for (const p of top) checkRoots(manifest, p.join('/'), path);
      mergeAt(data, at, doc, path);
    }
  }
  return { manifest, data, modules, signature };
}

function signatureToken(bytes: Buffer): string {
  let sigs: unknown;
  try {
    sigs = (JSON.parse(bytes.toString('utf8')) as { signatures?: unknown }).signatures;
  } catch (e) {
    throw new BundleError(`.signatures.json: ${(e as Error).message}`);
  }
  if (!Array.isArray(sigs) || sigs.length === 0) throw new BundleError('.signatures.json: missing JWT (expected exactly one)');
  if (sigs.length > 1) throw new BundleError('.signatures.json: multiple JWTs not supported (expected exactly one)');
  return String(sigs[0]);
}

/** OPA's verification: the token's signature, its scope, then every file against the digests it lists. */
function verifyFiles(files: Map<string, Buffer>, token: string, v: VerificationOptions): void {
  let payload: Record<string, unknown>;
  try {
    const d = decodeJws(token);
    const keyId = v.keyId || (typeof d.header.kid === 'string' ? d.header.kid : '') || (typeof d.payload.keyid === 'string' ? d.payload.keyid : '');
    if (!keyId) throw new BundleError('verification key ID is empty');
    const key = v.keys[keyId];
    if (!key) throw new BundleError(`verification key corresponding to ID ${keyId} not found`);
    payload = verifyJws(token, key.algorithm, key.key).payload;
    if ((payload.scope ?? '') !== (v.scope || key.scope || '')) throw new BundleError('scope mismatch');
  } catch (e) {
    throw e instanceof BundleError ? e : new BundleError((e as Error).message);
  }
  const listed = new Map<string, { hash: string; algorithm: string }>();
  for (const f of (payload.files ?? []) as { name: string; hash: string; algorithm: string }[]) listed.set(clean(f.name), f);
  const excluded = (v.exclude ?? []).map(globToRegExp);
  for (const [path, bytes] of files) {
    if (path === `/${SIGNATURES}` || excluded.some((re) => re.test(path.slice(1)))) continue;
    const f = listed.get(path);
    if (!f) throw new BundleError(`file ${path.slice(1)} not included in bundle signature`);
    if (!f.algorithm) throw new BundleError(`no hashing algorithm provided for file ${path.slice(1)}`);
    const got = fileDigest(path, bytes, f.algorithm);
    if (got !== f.hash) throw new BundleError(`${path.slice(1)}: digest mismatch (want: ${f.hash}, got: ${got})`);
    listed.delete(path);
  }
  if (listed.size) throw new BundleError(`file(s) [${[...listed.keys()].map((p) => p.slice(1)).join(' ')}] specified in bundle signatures but not found in the target bundle`);
}

function checkRoots(m: Manifest, path: string, file: string): void {
  const roots = m.roots ?? [''];
  if (roots.some((r) => r === '' || path === r || path.startsWith(`${r}/`))) return;
  throw new BundleError(`manifest roots [${roots.join(' ')}] do not permit data at path /${path} (file ${file})`);
}

function mergeAt(data: Record<string, unknown>, at: string[], doc: unknown, file: string): void {
  let cur = data;
  for (const k of at) {
    const next = cur[k];
    if (next === undefined) cur = (cur[k] = {}) as Record<string, unknown>;
    else if (next && typeof next === 'object' && !Array.isArray(next)) cur = next as Record<string, unknown>;
    else throw new BundleError(`${file}: data conflicts at /${at.join('/')}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    if (at.length === 0) throw new BundleError(`${file}: the root data document must be an object`);
    const parent = at.slice(0, -1).reduce((o, k) => o[k] as Record<string, unknown>, data);
    parent[at[at.length - 1]] = doc;
    return;
  }
  for (const [k, x] of Object.entries(doc)) {
    const prev = cur[k];
    cur[k] = prev && typeof prev === 'object' && !Array.isArray(prev) && x && typeof x === 'object' && !Array.isArray(x) ? deepMerge(prev as Record<string, unknown>, x as Record<string, unknown>) : x;
  }
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, x] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && !Array.isArray(prev) && x && typeof x === 'object' && !Array.isArray(x) ? deepMerge(prev as Record<string, unknown>, x as Record<string, unknown>) : x;
  }
  return out;
}

/** Compiles a bundle's policies and data (Rego version from its manifest). */
export function compileBundle(b: Bundle, opts: Omit<CompileOptions, 'modules' | 'data' | 'regoVersion'> = {}): Policy {
  const modules = Object.fromEntries(b.modules.map((m) => [m.path, m.source]));
  return compile({ ...opts, modules, data: b.data, regoVersion: b.manifest.rego_version === 0 ? 'v0' : 'v1' });
}
