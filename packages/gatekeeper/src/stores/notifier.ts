/**
 * Wakes whoever waits on something that changed elsewhere: a held request when its approval's verdict lands, the
 * console's live queue when a request opens. In one process an EventEmitter does (memory/notifier.ts); replicas
 * sharing a database need the database's own channel (PostgreSQL LISTEN/NOTIFY).
 */
export interface Notice {
  /** What happened, e.g. "created", "decided", "voted", "used", "delivery". */
  event: string;
  id: string;
  status?: string;
}

/**
 * The event of the notice every subscriber gets after a gap in delivery (a driver's connection to the database was
 * down): whatever changed meanwhile is unknown, so re-read what you wait for. Its `id` is empty.
 */
export const RESYNC = 'resync';

export interface Notifier {
  publish(topic: string, notice: Notice): Promise<void>;
  /** Calls `listener` for every notice on `topic` from now on; returns the unsubscribe function. */
  subscribe(topic: string, listener: (notice: Notice) => void): () => void;
  close(): Promise<void>;
}
