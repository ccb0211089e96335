/**
 * The gatekeeper's port onto the ledger: append one record (with named payloads) durably. `append` resolves only
 * once the record is committed and rejects on any store failure. `ledgerDecisionLog` adapts an @oagf/ledger
 * Ledger to it; tests pass an in-memory log.
 */
import { readFileSync } from 'node:fs';
import { openLedger, type Ledger, type LedgerDriver } from '@oagf/ledger';
import type { GatekeeperConfig } from '../config/schema.js';
import type { Outcome } from '../spec/index.js';

export interface RecordLink {
  rel: string;
  id: string;
  index?: number;
}

/** The decision, written before the action is carried out. */
export interface DecisionRecord {
  v: 1;
  type: 'decision';
  id: string;
  time: string;
  agent?: string;
  action_digest: string;
  outcome: Outcome;
  reasons: string[];
  /** Absent when no policy bundle was active (the action was denied for that). */
  policy_digest?: string;
  links?: RecordLink[];
  data: Record<string, unknown>;
}

/** What happened when an allowed action was carried out, linked to its decision. */
export interface OutcomeRecord {
  v: 1;
  type: 'outcome';
  id: string;
  time: string;
  agent?: string;
  action_digest: string;
  links: RecordLink[];
  data: Record<string, unknown>;
}

export type GateRecord = DecisionRecord | OutcomeRecord;

export interface DecisionLog {
  append(record: GateRecord, payloads?: Record<string, unknown>): Promise<{ index: number }>;
}

/** The ledger on `driver` (PostgreSQL with `storage.postgres`), else on the SQLite file `ledger.path`. */
export async function openConfiguredLedger(config: GatekeeperConfig['ledger'], driver?: LedgerDriver): Promise<Ledger> {
  let signingKey: string;
  try {
    signingKey = readFileSync(config.signing_key_file, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `ledger.signing_key_file: cannot read ${config.signing_key_file} (${(err as Error).message}); create one with \`gatekeeper ledger keygen\``,
    );
  }
  return openLedger({
    ...(driver ? { driver } : { path: config.path!, durability: config.durability }),
    origin: config.origin,
    signingKey,
    ...(config.checkpoint_every ? { checkpointEvery: config.checkpoint_every } : {}),
  });
}

export function ledgerDecisionLog(ledger: Ledger): DecisionLog {
  return {
    async append(record, payloads = {}) {
      // Payloads are committed by the digest of their exact bytes, so plain JSON serves (and is ~20x cheaper than
      // canonical JSON on the hot path); only the record itself needs the canonical form, which the ledger applies.
      const bytes: Record<string, string | Uint8Array> = {};
      for (const [name, value] of Object.entries(payloads)) {
        bytes[name] = typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value);
      }
      const { index } = await ledger.append(record, bytes);
      return { index };
    },
  };
}
