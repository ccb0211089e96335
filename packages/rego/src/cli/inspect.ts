/** `rego inspect`: what a bundle holds (manifest, signatures, namespaces), as `opa inspect` prints it. */
import type { Command } from 'commander';
import { readBundle } from '../bundle/bundle.js';
import { decodeJws } from '../bundle/jws.js';
import { parseModules } from '../policy.js';
import { statPath } from './load.js';
import { jsonOut, run } from './report.js';

export function inspectCommand(program: Command): void {
  program.command('inspect')
    .description('show the manifest, signatures and namespaces of a bundle (tar.gz or directory)')
    .argument('<bundle>', 'bundle file or directory')
    .option('-f, --format <format>', 'pretty or json', 'pretty')
    .action((path: string, o: { format: string }) => run(() => {
      statPath(path);
      // inspection shows a signed bundle without verifying it, as opa inspect does
      const b = readBundle(path, { skipVerification: true });
      const namespaces: Record<string, string[]> = {};
      const v0 = b.manifest.rego_version === 0;
      for (const m of parseModules(Object.fromEntries(b.modules.map((x) => [x.path, x.source])), v0 ? 'v0' : 'v1')) {
        (namespaces[m.package.join('.')] ??= []).push(m.file);
      }
      const signatures = b.signature ? { signatures: [b.signature], plugin: '' } : {};
      if (o.format === 'json') {
        process.stdout.write(`${jsonOut({ manifest: b.manifest, signatures_config: signatures, namespaces })}\n`);
        return;
      }
      const rows: [string, string][] = [['Revision', b.manifest.revision || '""'], ['Roots', b.manifest.roots.join(', ') || '""']];
      if (b.signature) rows.push(['Signed by key', String(decodeJws(b.signature).payload.keyid ?? decodeJws(b.signature).header.kid ?? '')]);
      process.stdout.write(table('MANIFEST', ['Field', 'Value'], rows));
      process.stdout.write(table('NAMESPACES', ['Namespace', 'File'], Object.entries(namespaces).sort().flatMap(([ns, fs]) => fs.map((f) => [ns, f] as [string, string]))));
    }));
}

function table(title: string, head: [string, string], rows: [string, string][]): string {
  const w = [Math.max(head[0].length, ...rows.map((r) => r[0].length)), Math.max(head[1].length, ...rows.map((r) => r[1].length))];
  const line = `+${'-'.repeat(w[0] + 2)}+${'-'.repeat(w[1] + 2)}+`;
  const row = (r: [string, string]) => `| ${r[0].padEnd(w[0])} | ${r[1].padEnd(w[1])} |`;
  return `${title}:\n${line}\n${row([head[0].toUpperCase(), head[1].toUpperCase()])}\n${line}\n${rows.map(row).join('\n')}\n${line}\n`;
}
