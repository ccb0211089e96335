/** `gatekeeper serve [--config FILE]` */
import { existsSync, writeFileSync } from 'node:fs';
import { generateKey } from '@oagf/ledger';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { buildServer } from '../server.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return port;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the gatekeeper sidecar')
    .option('-c, --config <file>', 'configuration file', 'gatekeeper.yaml')
    .option('--generate-key', 'create the ledger signing key file if it does not exist yet')
    .option('--check', 'validate the configuration and policy bundle, then exit')
    .option('-p, --port <port>', 'listen on this port instead of the configured one (0 picks a free one)', parsePort)
    .action(async (options: { config: string; generateKey?: boolean; check?: boolean; port?: number }) => {
      const loaded = loadConfigFile(options.config);
      if (options.port !== undefined) loaded.config.listen = { ...loaded.config.listen, port: options.port };
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
      let url: string;
      try {
        url = await gatekeeper.listen();
      } catch (err) {
        // A supervisor must see the failure: close what was opened and exit non-zero instead of lingering.
        await gatekeeper.close();
        const { host, port } = loaded.config.listen;
        const reason = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `${host}:${port} is already in use` : (err as Error).message;
        throw new Error(`cannot listen: ${reason}`);
      }
      console.error(`gatekeeper listening on ${url} (policy ${gatekeeper.deps.policy.current()?.digest})`);
      const stop = async () => {
        await gatekeeper.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
