import type { LedgerRecord } from '@oagf/ledger';
import type { ReasoningTrace } from './trace.js';

/**
 * The approval workflow's own vocabulary. The shapes it needs from the decision pipeline and the ledger are
 * declared here as narrow ports, so the workflow can be tested on its own and wired to the real pieces in one place.
 */

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type Verdict = 'approve' | 'reject';

/**
 * Who must sign off (the decision's `approvers`): `min` distinct eligible reviewers. A reviewer is eligible when
 * they are named in `users` or belong to one of `groups`; with both empty, any reviewer is.
 */
export interface ApproverRequirement {
  min: number;
  groups: string[];
  users: string[];
}

export interface Vote {
  reviewer: string;
  verdict: Verdict;
  comment: string;
  time: string;
}

/** One escalated action waiting for (or past) a human decision. */
export interface Approval {
  id: string;
  status: ApprovalStatus;
  /** SHA-256 (hex) of the RFC 8785 canonical JSON of the action document: the approval is bound to it. */
  actionDigest: string;
  policyDigest: string;
  agentId: string;
  /** The human who owns the agent; never allowed to approve it (four eyes). */
  agentOwner?: string;
  sessionId?: string;
  surface: string;
  /** One line for lists and notices, e.g. "place_order · USD 2,400,000.00". */
  summary: string;
  amount?: { value: number; currency: string };
  /** The OAGF input and decision documents the escalation was made on (secrets redacted). */
  input: Record<string, unknown>;
  decision: Record<string, unknown>;
  required: ApproverRequirement;
  escalation: { id: string; index?: number };
  /** The session's reasoning trace (redacted), also committed as payload `trace` of the escalation record. */
  trace?: ReasoningTrace;
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
  /** Set once the approved action has been carried out; an approval is single use. */
  consumedAt?: string;
  final?: { id: string; index?: number };
  votes: Vote[];
}

export type NoticeStatus = 'pending' | 'delivered' | 'failed';

export interface NoticeDelivery {
  approvalId: string;
  channel: string;
  status: NoticeStatus;
  attempts: number;
  lastError?: string;
  updatedAt: string;
}

/** The record shape the ledger accepts; payloads are passed beside it and committed by digest. */
export type LedgerEntry = Omit<LedgerRecord, 'payloads'>;

/** What the workflow needs from the ledger: durable appends with payloads committed by digest. */
export interface ApprovalLedger {
  append(entry: LedgerEntry): Promise<{ index: number }>;
}

/** A reviewer as the workflow sees them after sign-in. */
export interface Reviewer {
  username: string;
  displayName: string;
  roles: Role[];
  groups: string[];
}

export type Role = 'reviewer' | 'auditor' | 'admin';

export class ApprovalError extends Error {
  constructor(
    readonly code:
      | 'not_found'
      | 'not_pending'
      | 'expired'
      | 'forbidden'
      | 'self_approval'
      | 'not_eligible'
      | 'already_voted'
      | 'digest_mismatch'
      | 'wrong_agent'
      | 'already_used'
      | 'rejected'
      | 'pending',
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalError';
  }
}
