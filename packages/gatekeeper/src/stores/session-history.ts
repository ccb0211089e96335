/**
 * Session history: what an agent session did recently, so policy can judge an action on the ones before it
 * (src/sessions/). The port; drivers: SQLite (stores/sqlite/session-history.ts) and PostgreSQL
 * (stores/postgres/session-history.ts, with `storage.postgres`: replicas share one history), both held to
 * test/stores/session-history.contract.ts.
 *
 * Bounded and expiring: a session keeps at most `maxEntries` (the oldest go first) and an entry is gone once it is
 * older than `ttlMs`. No result text is kept, only fingerprints (sorted 32-bit k-gram hashes), so the store holds
 * no private document, yet a later argument that copies one can be recognised.
 */

/** A label the policy attached to an action's result (obligation `label`). */
export interface ResultLabel {
  label: string;
  /** Where the data comes from, as the policy named it (default: the action's tool, API path or URI). */
  source: string;
}

/** Fingerprints of a labelled result the gatekeeper saw (see sessions/fingerprint.ts). */
export interface ResultPrint {
  /** Characters indexed (normalised text; results are indexed up to a cap). */
  chars: number;
  /** Sorted, unique k-gram hashes. */
  hashes: Uint32Array;
}

export interface SessionEntry {
  /** Decision record id. */
  id: string;
  /** Ledger index of the decision record. */
  index: number;
  /** Epoch ms of the decision. */
  time: number;
  agent: string;
  kind: string;
  target: Record<string, unknown>;
  /** sha256 digest of the canonical action: equal digests are the same call. */
  digest: string;
  decision: 'allow' | 'deny' | 'escalate';
  amount?: { value: number; currency: string };
  /** llm.tool_call: the call id its result comes back under (a tool message in the next request). */
  callId?: string;
  /** What came of it once carried out: completed, failed (error or upstream status ≥ 400), or released unfinished. */
  outcome?: 'completed' | 'failed' | 'released';
  status?: number;
  labels?: ResultLabel[];
  print?: ResultPrint;
}

export type EntryUpdate = Partial<Pick<SessionEntry, 'decision' | 'outcome' | 'status' | 'print'>>;

export interface SessionHistoryLimits {
  /** Entries kept per session: `recent` returns the newest this many; older ones are dropped. */
  maxEntries: number;
  /** Entries older than this (ms) are no longer returned and are removed. */
  ttlMs: number;
}

export interface SessionHistoryStore {
  /** Adds an entry (ids are unique: decision record ids). */
  append(session: string, entry: SessionEntry): Promise<void>;
  /** Changes an entry in place; an unknown or expired id is ignored (the session moved on). */
  update(session: string, id: string, change: EntryUpdate): Promise<void>;
  /**
   * The session's unexpired entries at `now`, oldest first. Read-only: a driver may hand out the same array (and
   * entries) again while the history is unchanged, so what is derived from it can be kept per array.
   */
  recent(session: string, now: number): Promise<readonly SessionEntry[]>;
  /** Removes every expired entry; returns how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
