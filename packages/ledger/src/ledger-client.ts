/**
 * A worker's handle on a ledger owned by a LedgerHost (ledger-host.ts) in another thread or process: append()
 * resolves exactly when the host's ledger acknowledged the append (durably committed), with its index, and rejects
 * with the ledger's own error when refused. If the connection is lost the pending appends reject as unknown: they
 * may or may not have been recorded (look them up by id after a restart).
 */
import { createConnection } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import type { AppendInput, Ledger } from './ledger.js';
import type { AppendResult } from './sequencer.js';
import { portChannel, socketChannel, type Channel, type Head, type ReadMethod, type Reply, type Request } from './ledger-wire.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class LedgerClient {
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private lost: Error | undefined;
  private head: Head = { size: 0 };
  private settled: (() => void) | undefined;

  private constructor(private readonly channel: Channel) {
    channel.onMessage((message) => {
      const reply = message as Reply;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.settled?.();
      if (reply.ok) {
        if (reply.head.size >= this.head.size) this.head = reply.head;
        waiting.resolve(reply.result);
      }
      else waiting.reject(Object.assign(reply.error.name === 'TypeError' ? new TypeError(reply.error.message) : new Error(reply.error.message), { name: reply.error.name }));
    });
    channel.onClose(() => this.fail(new Error('connection to the ledger host was lost')));
  }

  /** In a worker thread, over the port a LedgerHost made (host.port()). */
  static overPort(port: MessagePort): LedgerClient {
    return new LedgerClient(portChannel(port));
  }

  /** In another process, over the host's unix socket (host.listen(path)). */
  static async overSocket(path: string): Promise<LedgerClient> {
    const socket = createConnection(path);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (error) => reject(new Error(`cannot reach the ledger host at ${path}: ${error.message}`)));
    });
    return new LedgerClient(socketChannel(socket, 'turn'));
  }

  private request(message: WithoutId<Request>): Promise<unknown> {
    if (this.lost) return Promise.reject(this.lost);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.channel.send({ ...message, id } as Request);
    });
  }

  /** Resolves after the host's ledger durably committed the record (see Ledger.append). */
  append(record: AppendInput, payloads?: Record<string, Uint8Array | string>): Promise<AppendResult> {
    return this.request(payloads ? { op: 'append', record, payloads } : { op: 'append', record }) as Promise<AppendResult>;
  }

  /** A signed checkpoint covering every append this client had acknowledged before the call. */
  checkpointNow(): Promise<string> {
    return this.request({ op: 'checkpoint' }) as Promise<string>;
  }

  private read<T>(method: ReadMethod, ...args: unknown[]): Promise<T> {
    return this.request({ op: 'read', method, args }) as Promise<T>;
  }

  /**
   * The host's ledger as a Ledger: appends and checkpoints as above, reads answered by the host; size() and
   * latestCheckpoint() are what the host knew at its last reply to this client. close() closes this client only,
   * once its appends in flight are answered.
   */
  ledger(): Ledger {
    return {
      append: (record, payloads) => this.append(record, payloads),
      checkpointNow: () => this.checkpointNow(),
      size: () => this.head.size,
      latestCheckpoint: () => this.head.checkpoint,
      getRecord: (index) => this.read('getRecord', index),
      findById: (id) => this.read('findById', id),
      getPayload: (digest) => this.read('getPayload', digest),
      deletePayload: (digest) => this.read('deletePayload', digest),
      inclusionProof: (index, size) => this.read('inclusionProof', index, size),
      consistencyProof: (size1, size2) => this.read('consistencyProof', size1, size2),
      rootAt: (size) => this.read('rootAt', size),
      proofFile: (index) => this.read('proofFile', index),
      tiles: () => (path) => this.read('tile', path),
      close: () => this.closeWhenSettled(),
    };
  }

  private fail(cause: Error): void {
    this.lost ??= cause;
    const pending = [...this.pending.values()];
    this.pending.clear();
    const error = new Error(`${cause.message}; ${pending.length} append(s) unacknowledged: they may or may not be recorded`, { cause });
    for (const p of pending) p.reject(error);
    this.settled?.();
  }

  /** Closes once every request sent so far has its answer (a clean shutdown loses no append in flight). */
  async closeWhenSettled(): Promise<void> {
    if (this.pending.size > 0 && !this.lost) await new Promise<void>((resolve) => (this.settled = resolve));
    this.close();
  }

  close(): void {
    this.fail(new Error('ledger client is closed'));
    this.channel.close();
  }
}
