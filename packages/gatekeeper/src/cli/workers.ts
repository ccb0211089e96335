/**
 * `gatekeeper serve --workers N`: every core serves. The primary process owns the one ledger — its single
 * sequencer, group commit and durability unchanged — and hands it to N worker processes (node:cluster) over a
 * unix socket (LedgerHost/LedgerClient of @oagf/ledger); the workers share the listening port, read requests,
 * evaluate policy and call upstreams, and each of their appends resolves only once the primary's ledger has it
 * durably, so a decision is never acknowledged before it is recorded. Budgets (SQLite escrow, BEGIN IMMEDIATE)
 * and approvals (conditional updates) are exact across processes already; notices — a verdict waking a held
 * request — are relayed by the primary to every worker (stores/cluster/notifier.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerClient, LedgerHost } from '@oagf/ledger';
import type { LoadedConfig } from '../config/load.js';
import { buildServer, type Gatekeeper } from '../server.js';
import { openConfiguredLedger } from '../stores/ledger.js';
import { ClusterNotifier, relayNotices } from '../stores/cluster/notifier.js';
import { listenOrExplain } from './listen.js';

const SOCKET_ENV = 'GATEKEEPER_LEDGER_SOCKET';

interface Ready {
  gatekeeperReady: { url: string; policy?: string };
}

/** True in a worker process forked by `serve --workers`. */
export const isServeWorker = (): boolean => cluster.isWorker && process.env[SOCKET_ENV] !== undefined;

/**
 * The primary: opens the ledger, starts `count` workers and restarts any that dies; resolves with the URL and
 * policy digest once all of them listen, and a stop function (SIGTERM the workers, wait for them — their pending
 * outcome records reach the ledger — then close the ledger).
 */
export async function startPrimary(loaded: LoadedConfig, count: number): Promise<{ url: string; policy?: string; stop(): Promise<void> }> {
  const ledger = await openConfiguredLedger(loaded.config.ledger);
  const host = new LedgerHost(ledger);
  const dir = mkdtempSync(join(tmpdir(), 'gatekeeper-ledger-'));
  const socket = join(dir, 'ledger.sock');
  await host.listen(socket);
  const workers = new Set<Worker>();
  let stopping = false;
  let ready!: (r: Ready['gatekeeperReady']) => void;
  let failed!: (error: Error) => void;
  const allReady = new Promise<Ready['gatekeeperReady']>((resolve, reject) => ((ready = resolve), (failed = reject)));
  let listening = 0;
  let first: Ready['gatekeeperReady'] | undefined;

  const fork = () => {
    const worker = cluster.fork({ [SOCKET_ENV]: socket });
    workers.add(worker);
    worker.on('message', (message: unknown) => {
      relayNotices(worker, message, workers);
      if (typeof message === 'object' && message !== null && 'gatekeeperReady' in message) {
        first ??= (message as Ready).gatekeeperReady;
        if (++listening === count) ready(first);
      }
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      if (listening < count) return failed(new Error(`a worker exited (${signal ?? code}) before it was listening`));
      console.error(`gatekeeper worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
      fork();
    });
  };
  for (let i = 0; i < count; i++) fork();

  const stop = async () => {
    stopping = true;
    await Promise.all([...workers].map((w) => new Promise<void>((resolve) => (w.once('exit', () => resolve()), w.process.kill('SIGTERM')))));
    await host.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return { ...(await allReady), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A worker: the gatekeeper with the primary's ledger and the relayed notifier; tells the primary once listening. */
export async function startWorker(loaded: LoadedConfig): Promise<Gatekeeper> {
  const client = await LedgerClient.overSocket(process.env[SOCKET_ENV]!);
  const gatekeeper = await buildServer(loaded, { ledger: client.ledger(), notifier: ClusterNotifier.ofWorkerProcess() });
  const url = await listenOrExplain(gatekeeper, loaded);
  const policy = gatekeeper.deps.policy.current()?.digest;
  process.send!({ gatekeeperReady: { url, ...(policy ? { policy } : {}) } } satisfies Ready);
  return gatekeeper;
}
