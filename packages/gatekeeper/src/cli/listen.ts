/** Listening for `serve` (one process, a worker, or the primary before it forks): a failure names the cause. */
import { createServer } from 'node:net';
import type { LoadedConfig } from '../config/load.js';
import type { Gatekeeper } from '../server.js';

export async function listenOrExplain(gatekeeper: Gatekeeper, loaded: LoadedConfig): Promise<string> {
  try {
    return await gatekeeper.listen();
  } catch (err) {
    // A supervisor must see the failure: close what was opened and exit non-zero instead of lingering.
    await gatekeeper.close();
    throw cannotListen(err, loaded);
  }
}

/**
 * The primary of `serve --workers` binds the configured address once and lets it go before it opens the ledger
 * and forks: a taken port is reported at once, not after every worker has loaded the policy and failed.
 */
export async function probeListen(loaded: LoadedConfig): Promise<void> {
  const { host, port } = loaded.config.listen;
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(cannotListen(err, loaded)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function cannotListen(err: unknown, loaded: LoadedConfig): Error {
  const { host, port } = loaded.config.listen;
  const reason = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `${host}:${port} is already in use` : (err as Error).message;
  return new Error(`cannot listen: ${reason}`);
}
