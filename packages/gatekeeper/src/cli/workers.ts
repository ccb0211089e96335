/**
 * `gatekeeper serve --workers N`: every core serves. The primary process owns the one ledger — its single
 * sequencer, group commit and durability unchanged — and hands it to N worker processes (node:cluster) over a
 * unix socket (LedgerHost/LedgerClient of @oagf/ledger); the workers share the listening port, read requests,
 * evaluate policy and call upstreams, and each of their appends resolves only once the primary's ledger has it
 * durably, so a decision is never acknowledged before it is recorded. Budgets (SQLite escrow, BEGIN IMMEDIATE)
 * and approvals (conditional updates) are exact across processes already; notices — a verdict waking a held
 * request — are relayed by the primary to every worker (stores/cluster/notifier.ts). With `storage.postgres` the
 * workers are replicas on the shared database instead (it sequences the ledger and carries the notices).
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerClient, LedgerHost, type Ledger } from '@oagf/ledger';
import type { LoadedConfig } from '../config/load.js';
import { buildServer, type Gatekeeper } from '../server.js';
import { openConfiguredLedger } from '../stores/ledger.js';
import { ClusterNotifier, relayNotices } from '../stores/cluster/notifier.js';
import { listenOrExplain, probeListen } from './listen.js';

const WORKER_ENV = 'GATEKEEPER_SERVE_WORKER';
const SOCKET_ENV = 'GATEKEEPER_LEDGER_SOCKET';

interface Ready {
  gatekeeperReady: { url: string; policy?: string };
}

/** A worker that could not start (e.g. the port is taken) says why, so the primary fails with that reason. */
interface Failed {
  gatekeeperFailed: string;
}

/** True in a worker process forked by `serve --workers`. */
export const isServeWorker = (): boolean => cluster.isWorker && process.env[WORKER_ENV] === '1';

/**
 * The primary: opens the ledger, starts `count` workers and restarts any that dies; resolves with the URL and
 * policy digest once all of them listen, and a stop function (SIGTERM the workers, wait for them — their pending
 * outcome records reach the ledger — then close the ledger).
 */
export async function startPrimary(loaded: LoadedConfig, count: number, at: LedgerPlace = {}): Promise<{ url: string; policy?: string; stop(): Promise<void> }> {
  // With storage.postgres every worker is a replica of its own (the database sequences, LISTEN/NOTIFY notifies):
  // nothing to host. Otherwise the one SQLite ledger is opened here, or is another gatekeeper's (`attach`).
  const shared = loaded.config.storage.postgres !== undefined;
  await probeListen(loaded);
  const hosted = !shared && at.attach === undefined ? await hostLedger(loaded, at.socket) : undefined;
  const socket = shared ? undefined : (at.attach ?? hosted!.socket);
  const workers = new Set<Worker>();
  let stopping = false;
  let ready!: (r: Ready['gatekeeperReady']) => void;
  let failed!: (error: Error) => void;
  const allReady = new Promise<Ready['gatekeeperReady']>((resolve, reject) => ((ready = resolve), (failed = reject)));
  let listening = 0;
  let first: Ready['gatekeeperReady'] | undefined;

  const fork = () => {
    const worker = cluster.fork({ [WORKER_ENV]: '1', ...(socket ? { [SOCKET_ENV]: socket } : {}) });
    workers.add(worker);
    worker.on('message', (message: unknown) => {
      relayNotices(worker, message, workers);
      if (typeof message === 'object' && message !== null && 'gatekeeperFailed' in message) {
        return failed(new Error((message as Failed).gatekeeperFailed));
      }
      if (typeof message === 'object' && message !== null && 'gatekeeperReady' in message) {
        first ??= (message as Ready).gatekeeperReady;
        // One at a time: the first worker creates the SQLite stores' schema; workers opening a fresh state dir
        // together would race on it ("database is locked").
        if (++listening === count) ready(first);
        else if (workers.size < count) fork();
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
  fork();

  const stop = async () => {
    stopping = true;
    await Promise.all(
      [...workers].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : (w.once('exit', () => resolve()), w.process.kill('SIGTERM'))))),
    );
    await hosted?.close();
  };
  try {
    return { ...(await allReady), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Where a gatekeeper's ledger is: opened here (and served on `socket`, if given), or another gatekeeper's (`attach`). */
export interface LedgerPlace {
  socket?: string;
  attach?: string;
}

/** Opens the configured ledger and serves it on a unix socket (`socket`, else one in a fresh temporary directory). */
export async function hostLedger(loaded: LoadedConfig, socket?: string): Promise<{ socket: string; ledger: Ledger; closeHost(): Promise<void>; close(): Promise<void> }> {
  const ledger = await openConfiguredLedger(loaded.config.ledger);
  const host = new LedgerHost(ledger);
  const dir = socket === undefined ? mkdtempSync(join(tmpdir(), 'gatekeeper-ledger-')) : undefined;
  const path = socket ?? join(dir!, 'ledger.sock');
  try {
    await host.listen(path);
  } catch (err) {
    await ledger.close();
    throw new Error(`cannot serve the ledger on ${path}: ${(err as Error).message}`);
  }
  const closeHost = async () => {
    await host.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  return {
    socket: path,
    ledger,
    closeHost,
    close: async () => {
      await closeHost();
      await ledger.close();
    },
  };
}

/** The ledger another gatekeeper process serves on `socket`, as this process's ledger. */
export async function attachLedger(socket: string): Promise<Ledger> {
  return (await LedgerClient.overSocket(socket)).ledger();
}

/**
 * A worker: the gatekeeper with the primary's ledger and the relayed notifier (with storage.postgres: its own
 * connection to the shared database); tells the primary once listening.
 */
export async function startWorker(loaded: LoadedConfig): Promise<Gatekeeper> {
  const socket = process.env[SOCKET_ENV];
  const gatekeeper = await buildServer(loaded, socket ? { ledger: await attachLedger(socket), notifier: ClusterNotifier.ofWorkerProcess() } : {});
  let url: string;
  try {
    url = await listenOrExplain(gatekeeper, loaded);
  } catch (err) {
    // The IPC channel would keep this process alive (and the primary waiting): report, then let go of it.
    process.send!({ gatekeeperFailed: (err as Error).message } satisfies Failed, () => process.disconnect());
    throw err;
  }
  const policy = gatekeeper.deps.policy.current()?.digest;
  process.send!({ gatekeeperReady: { url, ...(policy ? { policy } : {}) } } satisfies Ready);
  return gatekeeper;
}
