/**
 * Console sign-in sessions: the port. Only the SHA-256 of a session token is stored, so reading the store gives
 * nobody a usable cookie. Drivers: SQLite (stores/sqlite/sessions.ts); replicas share one store to share sign-ins.
 */
export interface StoredSession {
  username: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface SessionStore {
  create(tokenHash: string, session: StoredSession): Promise<void>;
  /** The session, unless it is unknown or expired at `now` (an expired one is removed). */
  get(tokenHash: string, now: number): Promise<StoredSession | undefined>;
  delete(tokenHash: string): Promise<void>;
  /** Removes every session expired at `now`; returns how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
