/**
 * Read-only access to a ledger database for replay: decision records in index order with their `input` payload.
 * Opens the SQLite file read-only so replaying production traffic can never modify the audit log.
 * (Reads the @oagf/ledger SQLite layout: entries(idx, entry) holds canonical-JSON records; payloads by the ledger's reader.)
 */
import Database from 'better-sqlite3';
import { payloadReader } from '@oagf/ledger';

export interface RecordedDecision {
  index: number;
  record: {
    id: string;
    type: string;
    agent?: string;
    outcome?: string;
    reasons?: string[];
    payloads?: Record<string, string>;
    data?: Record<string, unknown>;
  };
  /** The full OAGF input document, or undefined when the payload was deleted by retention. */
  input: unknown;
}

export function* readDecisions(path: string): Generator<RecordedDecision> {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`cannot open ledger ${path}: ${(err as Error).message}`);
  }
  try {
    const payloads = payloadReader(db);
    for (const row of db.prepare('SELECT idx, entry FROM entries ORDER BY idx').iterate() as Iterable<{ idx: number; entry: Buffer }>) {
      const record = JSON.parse(row.entry.toString('utf8')) as RecordedDecision['record'];
      if (record.type !== 'decision') continue;
      const digest = record.payloads?.input;
      const data = digest ? payloads.payload(digest) : undefined;
      yield { index: row.idx, record, input: data ? JSON.parse(data.toString('utf8')) : undefined };
    }
  } finally {
    db.close();
  }
}
