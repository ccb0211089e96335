/** `rego build`: an OPA bundle from policy and data files, signed on request (as `opa build`). */
import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { buildBundle } from '../bundle/bundle.js';
import { parseModules } from '../policy.js';
import { toJSON } from '../value.js';
import { CliError, load } from './load.js';
import { run } from './report.js';

interface BuildFlags {
  output: string; revision?: string; v0Compatible?: boolean; signingKey?: string; signingAlg: string;
  verificationKeyId: string; claimsFile?: string;
}

export function buildCommand(program: Command): void {
  program.command('build')
    .description('build an OPA bundle (tar.gz) from policy and data files')
    .argument('<paths...>', 'files or directories')
    .option('-o, --output <file>', 'the bundle file to write', 'bundle.tar.gz')
    .option('-r, --revision <rev>', 'the manifest revision')
    .option('--v0-compatible', 'modules are Rego v0 (the manifest says rego_version 0)')
    .option('--signing-key <key>', 'PEM file of the private key (RS*, PS*, ES*, EdDSA) or the HMAC secret (HS*)')
    .option('--signing-alg <alg>', 'signing algorithm', 'RS256')
    .option('--verification-key-id <id>', 'key id written in the signature', 'default')
    .option('--claims-file <file>', 'JSON file of claims to sign (e.g. scope), instead of the keyid claim')
    .action((paths: string[], o: BuildFlags) => run((ctx) => {
      const l = (ctx.loaded = load(paths));
      const version = o.v0Compatible ? 'v0' : 'v1';
      // refuse what would not compile into a usable bundle: every module must parse
      parseModules(l.modules, version);
      const modules = Object.fromEntries(Object.entries(l.modules).map(([f, src]) => [relative(process.cwd(), f).replace(/^(\.\.\/)+/, ''), src]));
      const key = o.signingKey && (existsSync(o.signingKey) ? readFileSync(o.signingKey, 'utf8') : o.signingKey);
      let claims: Record<string, unknown> | undefined;
      if (o.claimsFile) {
        try {
          claims = JSON.parse(readFileSync(o.claimsFile, 'utf8')) as Record<string, unknown>;
        } catch (e) {
          throw new CliError(`${o.claimsFile}: ${(e as Error).message}`);
        }
      }
      const tgz = buildBundle({
        modules, data: toJSON(l.data) as Record<string, unknown>, revision: o.revision, regoVersion: version,
        signing: key ? { key, algorithm: o.signingAlg, keyId: o.verificationKeyId, claims } : undefined,
      });
      writeFileSync(o.output, tgz);
    }, !!o.v0Compatible));
}
