/** `gatekeeper serve [--config FILE]` */
import { existsSync, writeFileSync } from 'node:fs';
import { generateKey } from '@oagf/ledger';
import { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { buildServer } from '../server.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the gatekeeper sidecar')
    .option('-c, --config <file>', 'configuration file', 'gatekeeper.yaml')
    .option('--generate-key', 'create the ledger signing key file if it does not exist yet')
    .option('--check', 'validate the configuration and policy bundle, then exit')
    .action(async (options: { config: string; generateKey?: boolean; check?: boolean }) => {
      const loaded = loadConfigFile(options.config);
      const keyFile = loaded.config.ledger.signing_key_file;
      if (options.generateKey && !existsSync(keyFile)) {
        const { skey, vkey } = generateKey(loaded.config.ledger.origin);
        writeFileSync(keyFile, `${skey}\n`, { mode: 0o600 });
        console.error(`created ledger signing key ${keyFile}\nverifier key (publish this to auditors): ${vkey}`);
      }
      const gatekeeper = await buildServer(loaded);
      if (options.check) {
        await gatekeeper.close();
        console.log(`ok: ${options.config} is valid; policy ${gatekeeper.deps.policy.current()?.digest}`);
        return;
      }
      const url = await gatekeeper.listen();
      console.error(`gatekeeper listening on ${url} (policy ${gatekeeper.deps.policy.current()?.digest})`);
      const stop = async () => {
        await gatekeeper.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
