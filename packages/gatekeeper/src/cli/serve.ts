/** `gatekeeper serve [--config FILE] [--workers N]` */
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { generateKey } from '@oagf/ledger';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { buildServer } from '../server.js';
import { listenOrExplain } from './listen.js';
import { workerCount } from './worker-count.js';
import { attachLedger, hostLedger, isServeWorker, startPrimary, startWorker } from './workers.js';

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('workers is an integer from 1 to 256');
  return n;
}

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
    .option('-w, --workers <n>', 'worker processes serving requests, one ledger sequencer for all (default: one per core; one when mcp or sandbox is configured)', parseWorkers, availableParallelism())
    .option('--ledger-socket <path>', 'also serve this gatekeeper\'s ledger to other gatekeeper processes on this unix socket')
    .option('--ledger-host <path>', 'open no ledger: append to the one another gatekeeper serves on this unix socket (its --ledger-socket)')
    .action(async function (this: Command, options: { config: string; generateKey?: boolean; check?: boolean; port?: number; workers: number; ledgerSocket?: string; ledgerHost?: string }) {
      if (options.ledgerSocket && options.ledgerHost) throw new InvalidArgumentError('--ledger-socket and --ledger-host exclude each other');
      const loaded = loadConfigFile(options.config);
      if (options.port !== undefined) loaded.config.listen = { ...loaded.config.listen, port: options.port };
      if ((options.ledgerSocket || options.ledgerHost) && loaded.config.storage.postgres) {
        throw new InvalidArgumentError('--ledger-socket and --ledger-host share a SQLite ledger; with storage.postgres every replica appends to the database');
      }
      const workers = workerCount(loaded.config, options.workers, this.getOptionValueSource('workers') !== 'default');
      if (workers.note && !isServeWorker()) console.error(`gatekeeper: ${workers.note}`);
      if (isServeWorker()) {
        const gatekeeper = await startWorker(loaded);
        stopOnSignals(() => gatekeeper.close());
        return;
      }
      const keyFile = loaded.config.ledger.signing_key_file;
      if (options.generateKey && !existsSync(keyFile)) {
        const { skey, vkey } = generateKey(loaded.config.ledger.origin);
        writeFileSync(keyFile, `${skey}\n`, { mode: 0o600 });
        console.error(`created ledger signing key ${keyFile}\nverifier key (publish this to auditors): ${vkey}`);
      }
      if (workers.count > 1 && !options.check) {
        const primary = await startPrimary(loaded, workers.count, { ...(options.ledgerSocket ? { socket: options.ledgerSocket } : {}), ...(options.ledgerHost ? { attach: options.ledgerHost } : {}) });
        console.error(`gatekeeper listening on ${primary.url} (policy ${primary.policy}; ${workers.count} workers)`);
        stopOnSignals(primary.stop);
        return;
      }
      const hosted = options.ledgerSocket && !options.check ? await hostLedger(loaded, options.ledgerSocket) : undefined;
      const ledger = hosted?.ledger ?? (options.ledgerHost ? await attachLedger(options.ledgerHost) : undefined);
      const gatekeeper = await buildServer(loaded, ledger ? { ledger } : {});
      if (options.check) {
        await gatekeeper.close();
        console.log(`ok: ${options.config} is valid; policy ${gatekeeper.deps.policy.current()?.digest}`);
        return;
      }
      const url = await listenOrExplain(gatekeeper, loaded);
      console.error(`gatekeeper listening on ${url} (policy ${gatekeeper.deps.policy.current()?.digest})`);
      stopOnSignals(async () => {
        // Other gatekeepers first (their appends in flight are then unacknowledged), then this one and its ledger.
        await hosted?.closeHost();
        await gatekeeper.close();
      });
    });
}

function stopOnSignals(close: () => Promise<void>): void {
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
