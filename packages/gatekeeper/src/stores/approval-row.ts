/**
 * An approval as one table row, the same in every SQL driver: scalar columns, JSON kept as text (exactly the bytes
 * written), optional fields as NULL. Votes live in their own table and are joined back on reading.
 */
import type { Approval, ApprovalStatus, NoticeDelivery, Vote } from '../approvals/types.js';

export interface ApprovalRow {
  id: string;
  status: ApprovalStatus;
  action_digest: string;
  policy_digest: string;
  agent_id: string;
  agent_owner: string | null;
  session_id: string | null;
  surface: string;
  summary: string;
  amount: string | null;
  input: string;
  decision: string;
  required: string;
  escalation_id: string;
  /** PostgreSQL returns bigint columns as strings. */
  escalation_index: number | string | null;
  trace: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  consumed_at: string | null;
  final_id: string | null;
  final_index: number | string | null;
}

/** The columns an insert writes, in table order (the rest are set by later state changes). */
export type InsertedColumns = Omit<ApprovalRow, 'decided_at' | 'consumed_at' | 'final_id' | 'final_index'>;

export function approvalColumns(a: Approval): InsertedColumns {
  return {
    id: a.id,
    status: a.status,
    action_digest: a.actionDigest,
    policy_digest: a.policyDigest,
    agent_id: a.agentId,
    agent_owner: a.agentOwner ?? null,
    session_id: a.sessionId ?? null,
    surface: a.surface,
    summary: a.summary,
    amount: a.amount ? JSON.stringify(a.amount) : null,
    input: JSON.stringify(a.input),
    decision: JSON.stringify(a.decision),
    required: JSON.stringify(a.required),
    escalation_id: a.escalation.id,
    escalation_index: a.escalation.index ?? null,
    trace: a.trace ? JSON.stringify(a.trace) : null,
    created_at: a.createdAt,
    expires_at: a.expiresAt,
  };
}

export function approvalFromRow(r: ApprovalRow, votes: Vote[]): Approval {
  return {
    id: r.id,
    status: r.status,
    actionDigest: r.action_digest,
    policyDigest: r.policy_digest,
    agentId: r.agent_id,
    ...(r.agent_owner ? { agentOwner: r.agent_owner } : {}),
    ...(r.session_id ? { sessionId: r.session_id } : {}),
    surface: r.surface,
    summary: r.summary,
    ...(r.amount ? { amount: JSON.parse(r.amount) } : {}),
    input: JSON.parse(r.input),
    decision: JSON.parse(r.decision),
    required: JSON.parse(r.required),
    escalation: { id: r.escalation_id, ...(r.escalation_index !== null ? { index: Number(r.escalation_index) } : {}) },
    ...(r.trace ? { trace: JSON.parse(r.trace) } : {}),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    ...(r.decided_at ? { decidedAt: r.decided_at } : {}),
    ...(r.consumed_at ? { consumedAt: r.consumed_at } : {}),
    ...(r.final_id ? { final: { id: r.final_id, ...(r.final_index !== null ? { index: Number(r.final_index) } : {}) } } : {}),
    votes,
  };
}

/** A notice delivery's row (table approval_notices). */
export interface NoticeRow {
  approval_id: string;
  channel: string;
  status: NoticeDelivery['status'];
  attempts: number;
  last_error: string | null;
  updated_at: string;
}

export function noticeFromRow(r: NoticeRow): NoticeDelivery {
  return {
    approvalId: r.approval_id,
    channel: r.channel,
    status: r.status,
    attempts: r.attempts,
    ...(r.last_error ? { lastError: r.last_error } : {}),
    updatedAt: r.updated_at,
  };
}
