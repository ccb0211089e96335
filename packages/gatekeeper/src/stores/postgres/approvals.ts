/**
 * The approval store on PostgreSQL, shared by replicas. State changes are conditional updates (`WHERE status =
 * 'pending'`, `WHERE consumed_at IS NULL`): two reviewers on two replicas, or two retries, cannot both win. The
 * expiry sweep runs on one replica at a time, under a session advisory lock.
 */
import type pg from 'pg';
import { quoteSchema } from '@oagf/ledger';
import type { Approval, ApprovalStatus, NoticeDelivery, Vote } from '../../approvals/types.js';
import type { ApprovalQuery, ApprovalStore } from '../approvals.js';
import { approvalColumns, approvalFromRow, noticeFromRow, type ApprovalRow as Row, type NoticeRow } from '../approval-row.js';

/** Second key of the expiry sweep's advisory lock (the first is the schema's hashtext; the ledger uses 1 and 2). */
const EXPIRY_LOCK = 10;

export class PostgresApprovalStore implements ApprovalStore {
  private readonly S: string;

  /** `locks` holds the connections waiting on or holding an approval's lock, apart from `pool` the tasks query with. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly locks: pg.Pool,
    private readonly schema: string,
  ) {
    this.S = quoteSchema(schema);
  }

  async insert(a: Approval): Promise<void> {
    const columns = approvalColumns(a);
    const names = Object.keys(columns);
    await this.pool.query(
      `INSERT INTO ${this.S}.approvals (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(columns),
    );
  }

  async get(id: string): Promise<Approval | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.S}.approvals WHERE id = $1`, [id]);
    return (await this.hydrate(rows))[0];
  }

  async list(query: ApprovalQuery = {}): Promise<Approval[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status?.length) {
      params.push(query.status);
      where.push(`status = ANY ($${params.length}::text[])`);
    }
    if (query.text) {
      // ILIKE: case-insensitive, as SQLite's LIKE is for the text people search by.
      params.push(`%${query.text.replace(/[%_\\]/g, (c) => `\\${c}`)}%`);
      const like = (col: string) => `${col} ILIKE $${params.length}`;
      const columns = ['id', 'agent_id', 'agent_owner', 'summary', 'action_digest'].map(like).join(' OR ');
      where.push(`(${columns} OR EXISTS (SELECT 1 FROM ${this.S}.approval_votes v WHERE v.approval_id = a.id AND (${like('v.reviewer')} OR ${like('v.comment')})))`);
    }
    params.push(query.limit ?? 200);
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM ${this.S}.approvals a ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT $${params.length}`,
      params,
    );
    return this.hydrate(rows);
  }

  async count(status: ApprovalStatus): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.S}.approvals WHERE status = $1`, [status]);
    return rows[0]!.n;
  }

  async addVote(id: string, vote: Vote): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO ${this.S}.approval_votes (approval_id, reviewer, verdict, comment, time) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [id, vote.reviewer, vote.verdict, vote.comment, vote.time],
    );
    return r.rowCount === 1;
  }

  async finalize(id: string, status: Exclude<ApprovalStatus, 'pending'>, decidedAt: string, entry: { id: string; index?: number }): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE ${this.S}.approvals SET status = $1, decided_at = $2, final_id = $3, final_index = $4 WHERE id = $5 AND status = 'pending'`,
      [status, decidedAt, entry.id, entry.index ?? null, id],
    );
    return r.rowCount === 1;
  }

  async consume(id: string, at: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE ${this.S}.approvals SET consumed_at = $1 WHERE id = $2 AND status = 'approved' AND consumed_at IS NULL`,
      [at, id],
    );
    return r.rowCount === 1;
  }

  async due(now: string): Promise<Approval[]> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM ${this.S}.approvals WHERE status = 'pending' AND expires_at <= $1`, [now]);
    return this.hydrate(rows);
  }

  async exclusive<T>(task: () => Promise<T>): Promise<T | undefined> {
    // A session lock on one connection held for the task: if this replica dies, its connection drops and the lock goes.
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), $2) AS got', [this.schema, EXPIRY_LOCK]);
      if (!rows[0]!.got) return undefined;
      try {
        return await task();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1), $2)', [this.schema, EXPIRY_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  async locked<T>(id: string, task: () => Promise<T>): Promise<T> {
    const client = await this.locks.connect();
    const key = [`${this.schema}/approval`, id];
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1), hashtext($2))', key);
      try {
        return await task();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', key);
      }
    } finally {
      client.release();
    }
  }

  async saveNotice(d: NoticeDelivery): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.S}.approval_notices (approval_id, channel, status, attempts, last_error, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (approval_id, channel) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         last_error = excluded.last_error, updated_at = excluded.updated_at`,
      [d.approvalId, d.channel, d.status, d.attempts, d.lastError ?? null, d.updatedAt],
    );
  }

  async notices(approvalId: string): Promise<NoticeDelivery[]> {
    const { rows } = await this.pool.query<NoticeRow>(`SELECT * FROM ${this.S}.approval_notices WHERE approval_id = $1 ORDER BY channel COLLATE "C"`, [approvalId]);
    return rows.map(noticeFromRow);
  }

  /** The pool belongs to PostgresStorage, which ends it. */
  async close(): Promise<void> {}

  /** Rows to approvals, with every approval's votes fetched in one query. */
  private async hydrate(rows: Row[]): Promise<Approval[]> {
    if (rows.length === 0) return [];
    const { rows: votes } = await this.pool.query<Vote & { approval_id: string }>(
      `SELECT approval_id, reviewer, verdict, comment, time FROM ${this.S}.approval_votes WHERE approval_id = ANY ($1::text[]) ORDER BY time, reviewer COLLATE "C"`,
      [rows.map((r) => r.id)],
    );
    const byApproval = new Map<string, Vote[]>();
    for (const { approval_id, ...vote } of votes) byApproval.set(approval_id, [...(byApproval.get(approval_id) ?? []), vote]);
    return rows.map((r) => approvalFromRow(r, byApproval.get(r.id) ?? []));
  }
}
