/**
 * The seam between the gate and the ledger: append one record (with named payloads) durably.
 * `append` resolves only once the record is committed and rejects on any store failure.
 */
import type { Outcome } from './spec/index.js';

export interface RecordLink {
  rel: string;
  id: string;
  index?: number;
}

export interface DecisionRecord {
  v: 1;
  type: 'decision';
  id: string;
  time: string;
  agent?: string;
  action_digest: string;
  outcome: Outcome;
  reasons: string[];
  policy_digest: string;
  links?: RecordLink[];
  data: Record<string, unknown>;
}

export interface DecisionLog {
  append(record: DecisionRecord, payloads: Record<string, unknown>): Promise<{ index: number }>;
}
