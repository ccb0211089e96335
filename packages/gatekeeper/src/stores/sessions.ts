/**
 * Console sign-in sessions and failed sign-in counts: the port. Only the SHA-256 of a session token is stored, so
 * reading the store gives nobody a usable cookie. Drivers: SQLite (stores/sqlite/sessions.ts); replicas share one
 * store to share sign-ins and the login throttle's counts.
 */
export interface StoredSession {
  username: string;
  /** Epoch ms. */
  expiresAt: number;
  /**
   * Who the reviewer is when the session did not come from a local account (single sign-on): name, roles and
   * groups as the identity provider's claims gave them at sign-in. Absent: the local account `username`.
   */
  reviewer?: { displayName: string; roles: ('reviewer' | 'auditor' | 'admin')[]; groups: string[]; via: string };
}

export interface SessionStore {
  create(tokenHash: string, session: StoredSession): Promise<void>;
  /** The session, unless it is unknown or expired at `now` (an expired one is removed). */
  get(tokenHash: string, now: number): Promise<StoredSession | undefined>;
  delete(tokenHash: string): Promise<void>;
  /** Removes every session expired at `now`; returns how many. */
  sweep(now: number): Promise<number>;
  /**
   * Counts one failed sign-in for `key` (an account or a client address) at `now`, atomically; a count whose last
   * failure is `windowMs` or more before `now` starts over at 1.
   */
  addLoginFailure(key: string, now: number, windowMs: number): Promise<LoginFailures>;
  loginFailures(key: string): Promise<LoginFailures | undefined>;
  clearLoginFailures(key: string): Promise<void>;
  /** Forgets counts whose last failure is before `before`; returns how many. */
  sweepLoginFailures(before: number): Promise<number>;
  close(): Promise<void>;
}

export interface LoginFailures {
  /** Failures in a row (within the window). */
  failures: number;
  /** Epoch ms of the last one. */
  lastFailureAt: number;
}
