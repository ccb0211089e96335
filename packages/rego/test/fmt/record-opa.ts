/**
 * Records what real OPA makes of the modules in modules.ts (not run in CI: needs an `opa` binary):
 *   OPA_BIN=/path/to/opa node --import tsx --conditions=development test/fmt/record-opa.ts
 * writes fixtures/<mode>/<path> with `opa fmt`'s output for repository files, and fixtures/conformance.json with
 * the sha256 of its output for each conformance module it formats (modules it refuses are left out).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { conformanceModules, FIXTURES, MODE_FLAGS, repoModules, type FmtModule } from './modules.js';

const opa = process.env.OPA_BIN;
if (!opa) {
  process.stderr.write('set OPA_BIN to the path of an opa binary\n');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'rego-fmt-'));

function opaFmt(m: FmtModule): string | undefined {
  const f = join(work, 'm.rego');
  writeFileSync(f, m.src);
  try {
    return execFileSync(opa!, ['fmt', ...MODE_FLAGS[m.mode], f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

rmSync(FIXTURES, { recursive: true, force: true });
let files = 0;
for (const m of repoModules()) {
  const out = opaFmt(m);
  if (out === undefined) continue;
  const dest = join(FIXTURES, m.mode, m.key);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, out);
  files++;
}
const digests: Record<string, Record<string, string>> = { v1: {}, v0: {}, v0v1: {} };
for (const m of conformanceModules()) {
  const out = opaFmt(m);
  if (out !== undefined) digests[m.mode][m.key] = createHash('sha256').update(out).digest('hex');
}
writeFileSync(join(FIXTURES, 'conformance.json'), `${JSON.stringify(digests, null, 1)}\n`);
rmSync(work, { recursive: true });
console.log(`${files} repository files, ${Object.values(digests).reduce((n, d) => n + Object.keys(d).length, 0)} conformance modules recorded`);
