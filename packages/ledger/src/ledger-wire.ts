/**
 * The messages between a LedgerClient (a worker thread or process) and the LedgerHost that owns the ledger, and
 * their framing on a unix socket: a 4-byte big-endian length, then the message in V8's serialization (the same
 * structured clone a MessagePort uses, so payload bytes travel as bytes).
 */
import type { Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import type { AppendInput } from './ledger.js';

/** The Ledger methods a client may call on the host's ledger besides append and checkpointNow (reads and retention). */
export const READS = ['getRecord', 'findById', 'getPayload', 'deletePayload', 'inclusionProof', 'consistencyProof', 'rootAt', 'proofFile', 'tile'] as const;
export type ReadMethod = (typeof READS)[number];

export type Request =
  | { id: number; op: 'append'; record: AppendInput; payloads?: Record<string, Uint8Array | string> }
  | { id: number; op: 'checkpoint' }
  | { id: number; op: 'read'; method: ReadMethod; args: unknown[] };

/** What the host's ledger last knew when it replied: a client's size() and latestCheckpoint() answer from it. */
export interface Head {
  size: number;
  checkpoint?: string;
}

export type Reply =
  | { id: number; ok: true; result: unknown; head: Head }
  | { id: number; ok: false; error: { name: string; message: string } };

/** Both ends of a connection: a MessagePort or a framed socket. */
export interface Channel {
  send(message: Request | Reply): void;
  onMessage(handler: (message: Request | Reply) => void): void;
  /** Called once when the other end goes away (or the channel is closed here). */
  onClose(handler: () => void): void;
  close(): void;
}

export function portChannel(port: import('node:worker_threads').MessagePort): Channel {
  return {
    send: (message) => port.postMessage(message),
    onMessage: (handler) => port.on('message', handler),
    onClose: (handler) => port.once('close', handler),
    close: () => port.close(),
  };
}

const HEADER = 4;

/**
 * `flushAt`: when what was sent leaves. `tick` (the host's replies): at the end of the current tick — a commit's
 * replies are resolved together, and must not wait for the sequencer's next commit, which an immediate queued
 * before them would run first. `turn` (a client's requests): at the end of the event loop's turn — a worker's
 * appends come from many requests' I/O callbacks, each its own tick; setImmediate runs right after them, before
 * the loop waits again, so they leave in one writev (one syscall and one wake-up of the host per batch).
 */
export function socketChannel(socket: Socket, flushAt: 'tick' | 'turn' = 'tick'): Channel {
  const later = flushAt === 'tick' ? process.nextTick : setImmediate;
  let pending: Buffer = Buffer.alloc(0);
  let handler: (message: Request | Reply) => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= HEADER) {
      const length = pending.readUInt32BE(0);
      if (pending.length < HEADER + length) break;
      const frame = pending.subarray(HEADER, HEADER + length);
      pending = pending.subarray(HEADER + length);
      handler(deserialize(frame) as Request | Reply);
    }
  });
  socket.setNoDelay(true);
  return {
    send(message) {
      const body = serialize(message);
      const header = Buffer.allocUnsafe(HEADER);
      header.writeUInt32BE(body.length);
      // Messages sent before the flush leave in one writev: one syscall per batch, not per append (see flushAt).
      if (!socket.writableCorked) {
        socket.cork();
        later(() => socket.uncork());
      }
      socket.write(header);
      socket.write(body);
    },
    onMessage: (h) => (handler = h),
    onClose: (h) => {
      socket.once('close', h);
      socket.once('error', () => socket.destroy());
    },
    close: () => socket.end(),
  };
}
