/**
 * OPA bundles (`rego build`, `opa build`, any OPA-compatible bundle server) as gatekeeper policy bundles. The
 * archive is read and its signature verified by @oagf/rego; here it only becomes the gatekeeper's BundleFiles.
 * Its digest is the sha256 of the archive bytes, so an auditor can match a decision's `policy_digest` with
 * `sha256sum bundle.tar.gz` on the artifact that was released.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readBundle as readOpaArchive, type Bundle, type VerificationOptions } from '@oagf/rego';
import { BundleError, readBundle, type BundleFiles } from './bundle.js';

export function fromOpaBundle(bundle: Bundle, archive: Buffer, where: string): BundleFiles {
  const modules: Record<string, string> = {};
  for (const m of bundle.modules) {
    if (m.path.endsWith('_test.rego')) continue;
    modules[m.path.replace(/^\/+/, '')] = m.source;
  }
  if (Object.keys(modules).length === 0) throw new BundleError(`policy bundle ${where} has no .rego modules`);
  return {
    dir: where,
    modules,
    data: bundle.data,
    digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
    regoVersion: bundle.manifest.rego_version === 0 ? 'v0' : 'v1',
    ...(bundle.manifest.revision ? { revision: bundle.manifest.revision } : {}),
  };
}

/**
 * A bundle archive on disk (.tar.gz), verified when `verification` is given. Stricter than OPA, which accepts an
 * unsigned bundle unless a key id is configured: configuring keys here means only signed bundles are activated.
 */
export function readArchiveBundle(file: string, verification?: VerificationOptions): BundleFiles {
  let archive: Buffer;
  try {
    archive = readFileSync(file);
  } catch (err) {
    throw new BundleError(`cannot read policy bundle ${file}: ${(err as Error).message}`);
  }
  let bundle: Bundle;
  try {
    bundle = readOpaArchive(archive, { verification });
  } catch (err) {
    throw new BundleError(`policy bundle ${file} is refused: ${(err as Error).message}`);
  }
  requireSignature(bundle, verification, file);
  return fromOpaBundle(bundle, archive, file);
}

export function requireSignature(bundle: Bundle, verification: VerificationOptions | undefined, where: string): void {
  if (verification && !bundle.signature) throw new BundleError(`policy bundle ${where} is refused: it is not signed and verification keys are configured`);
}

/** Directories of .rego and data files, or one OPA bundle archive; `verification` only applies to an archive. */
export function readLocalBundle(paths: string[], verification?: VerificationOptions): BundleFiles {
  const archive = paths.length === 1 && isArchive(paths[0]!) ? paths[0]! : undefined;
  if (archive) return readArchiveBundle(archive, verification);
  if (verification) throw new BundleError(`policy.verification checks OPA bundle archives and bundle servers; ${paths.join(', ')} is not an archive`);
  return readBundle(paths);
}

/** A file, or a path named like one (so a missing archive is reported as missing, not as "not a directory"). */
export function isArchive(path: string): boolean {
  if (/\.(tar\.gz|tgz)$/.test(path)) return true;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
