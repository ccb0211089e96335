/**
 * One sequencer for many workers: the LedgerHost owns the ledger and takes appends (and reads) from LedgerClients in worker
 * threads (over a MessagePort) or other processes (over a unix socket). Each append joins the ledger's group
 * commit like a local one, and its reply goes back only once the ledger acknowledged it (durably committed), with
 * the index it got; a refusal comes back as the same error. Appends from one connection reach the ledger in the
 * order they were sent.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import type { Ledger } from './ledger.js';
import { READS, portChannel, socketChannel, type Channel, type Head, type Reply, type Request } from './ledger-wire.js';
import type { TilesHandler } from './tiles.js';

export class LedgerHost {
  private readonly channels = new Set<Channel>();
  private readonly servers: Server[] = [];

  private readonly tiles: TilesHandler;

  constructor(private readonly ledger: Ledger) {
    this.tiles = ledger.tiles();
  }

  /** A port for one worker thread: transfer it (postMessage(port, [port]) or workerData + transferList). */
  port(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.serve(portChannel(port1));
    port1.unref();
    return port2;
  }

  /** Takes clients in other processes on a unix socket at `path` (replacing a stale socket file). */
  async listen(path: string): Promise<void> {
    rmSync(path, { force: true });
    const server = createServer((socket) => this.serve(socketChannel(socket)));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  }

  private serve(channel: Channel): void {
    this.channels.add(channel);
    channel.onClose(() => this.channels.delete(channel));
    channel.onMessage((message) => {
      const request = message as Request;
      const answer = this.answer(request);
      answer.then(
        (result) => channel.send({ id: request.id, ok: true, result, head: this.head() } satisfies Reply),
        (error: unknown) => {
          const { name, message: text } = error instanceof Error ? error : new Error(String(error));
          channel.send({ id: request.id, ok: false, error: { name, message: text } } satisfies Reply);
        },
      );
    });
  }

  private answer(request: Request): Promise<unknown> {
    if (request.op === 'append') return this.ledger.append(request.record, request.payloads);
    if (request.op === 'checkpoint') return this.ledger.checkpointNow();
    if (!READS.includes(request.method)) return Promise.reject(new TypeError(`unknown ledger read ${JSON.stringify(request.method)}`));
    if (request.method === 'tile') return this.tiles(String(request.args[0]));
    const method = this.ledger[request.method] as (...args: unknown[]) => Promise<unknown>;
    return method.apply(this.ledger, request.args);
  }

  private head(): Head {
    const checkpoint = this.ledger.latestCheckpoint();
    return { size: this.ledger.size(), ...(checkpoint !== undefined ? { checkpoint } : {}) };
  }

  /** Stops taking connections and closes the open ones (the ledger stays open: close it after). */
  async close(): Promise<void> {
    // A server closes once its connections have: end them first.
    const closed = Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    for (const channel of this.channels) channel.close();
    this.channels.clear();
    await closed;
  }
}
