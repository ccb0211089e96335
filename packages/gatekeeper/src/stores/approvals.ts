/**
 * Where approvals live between the escalation and the verdict: the port the workflow uses. Every state change is
 * one conditional step (a pending approval is finalized once, an approved one consumed once), so two reviewers,
 * two retries or two replicas racing each other cannot both win. Drivers: SQLite (stores/sqlite/approvals.ts), PostgreSQL (stores/postgres/approvals.ts).
 */
import type { Approval, ApprovalStatus, NoticeDelivery, Vote } from '../approvals/types.js';

export interface ApprovalQuery {
  status?: ApprovalStatus[];
  /** Free text matched against id, agent, owner, summary and action digest. */
  text?: string;
  limit?: number;
}

export interface ApprovalStore {
  insert(approval: Approval): Promise<void>;
  get(id: string): Promise<Approval | undefined>;
  list(query?: ApprovalQuery): Promise<Approval[]>;
  count(status: ApprovalStatus): Promise<number>;
  /** Adds a vote; false when this reviewer already voted on this approval. */
  addVote(id: string, vote: Vote): Promise<boolean>;
  /** Moves a pending approval to a final status; false if it was no longer pending. */
  finalize(id: string, status: Exclude<ApprovalStatus, 'pending'>, decidedAt: string, entry: { id: string; index?: number }): Promise<boolean>;
  /** Marks an approved approval as used; false if it was not approved or already used. */
  consume(id: string, at: string): Promise<boolean>;
  /** Pending approvals whose expiry is at or before `now` (ISO time). */
  due(now: string): Promise<Approval[]>;
  /**
   * Runs `task` unless another process sharing this store is running its own (then resolves undefined without
   * running it): the periodic expiry sweep runs on one replica at a time.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T | undefined>;
  /**
   * Runs `task` once no other process sharing this store runs one for the same approval (it waits its turn): two
   * reviewers deciding one request on two replicas are decided one after the other, so only one verdict is recorded.
   */
  locked<T>(id: string, task: () => Promise<T>): Promise<T>;
  saveNotice(delivery: NoticeDelivery): Promise<void>;
  notices(approvalId: string): Promise<NoticeDelivery[]>;
  close(): Promise<void>;
}

