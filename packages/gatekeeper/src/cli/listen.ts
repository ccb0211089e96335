/** Listening for `serve` (one process or a worker): a failure closes what was opened and names the cause. */
import type { LoadedConfig } from '../config/load.js';
import type { Gatekeeper } from '../server.js';

export async function listenOrExplain(gatekeeper: Gatekeeper, loaded: LoadedConfig): Promise<string> {
  try {
    return await gatekeeper.listen();
  } catch (err) {
    // A supervisor must see the failure: close what was opened and exit non-zero instead of lingering.
    await gatekeeper.close();
    const { host, port } = loaded.config.listen;
    const reason = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `${host}:${port} is already in use` : (err as Error).message;
    throw new Error(`cannot listen: ${reason}`);
  }
}
