/**
 * The approval store on SQLite (better-sqlite3, WAL): the embedded default. State changes are conditional updates
 * (`WHERE status = 'pending'`, `WHERE consumed_at IS NULL`) so two reviewers or two retries racing each other
 * cannot both win, even across processes sharing the file.
 */
import Database from 'better-sqlite3';
import type { Approval, ApprovalStatus, NoticeDelivery, Vote } from '../../approvals/types.js';
import type { ApprovalQuery, ApprovalStore } from '../approvals.js';
import { approvalColumns, approvalFromRow, noticeFromRow, type ApprovalRow as Row, type NoticeRow } from '../approval-row.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  action_digest TEXT NOT NULL,
  policy_digest TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  agent_owner TEXT,
  session_id TEXT,
  surface TEXT NOT NULL,
  summary TEXT NOT NULL,
  amount TEXT,
  input TEXT NOT NULL,
  decision TEXT NOT NULL,
  required TEXT NOT NULL,
  escalation_id TEXT NOT NULL,
  escalation_index INTEGER,
  trace TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  decided_at TEXT,
  consumed_at TEXT,
  final_id TEXT,
  final_index INTEGER
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals(status, expires_at);
CREATE INDEX IF NOT EXISTS approvals_created ON approvals(created_at);
CREATE TABLE IF NOT EXISTS approval_votes (
  approval_id TEXT NOT NULL REFERENCES approvals(id),
  reviewer TEXT NOT NULL,
  verdict TEXT NOT NULL,
  comment TEXT NOT NULL,
  time TEXT NOT NULL,
  PRIMARY KEY (approval_id, reviewer)
);
CREATE TABLE IF NOT EXISTS approval_notices (
  approval_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (approval_id, channel)
);
`;

export class SqliteApprovalStore implements ApprovalStore {
  private readonly db: Database.Database;

  /** `file` is a path or ':memory:'. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  async insert(a: Approval): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO approvals (id, status, action_digest, policy_digest, agent_id, agent_owner, session_id, surface, summary,
          amount, input, decision, required, escalation_id, escalation_index, trace, created_at, expires_at)
         VALUES (@id, @status, @action_digest, @policy_digest, @agent_id, @agent_owner, @session_id, @surface, @summary,
          @amount, @input, @decision, @required, @escalation_id, @escalation_index, @trace, @created_at, @expires_at)`,
      )
      .run(approvalColumns(a));
  }

  async get(id: string): Promise<Approval | undefined> {
    const row = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
    return row ? this.hydrate(row) : undefined;
  }

  async list(query: ApprovalQuery = {}): Promise<Approval[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status?.length) {
      where.push(`status IN (${query.status.map(() => '?').join(',')})`);
      params.push(...query.status);
    }
    if (query.text) {
      const like = (col: string) => `${col} LIKE ? ESCAPE '\\'`;
      const columns = ['id', 'agent_id', 'agent_owner', 'summary', 'action_digest'].map(like).join(' OR ');
      const votes = `EXISTS (SELECT 1 FROM approval_votes v WHERE v.approval_id = approvals.id AND (${like('v.reviewer')} OR ${like('v.comment')}))`;
      where.push(`(${columns} OR ${votes})`);
      const pattern = `%${query.text.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      params.push(...Array<string>(7).fill(pattern));
    }
    const sql = `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, query.limit ?? 200) as Row[];
    return rows.map((r) => this.hydrate(r));
  }

  async count(status: ApprovalStatus): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM approvals WHERE status = ?').get(status) as { n: number }).n;
  }

  async addVote(id: string, vote: Vote): Promise<boolean> {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO approval_votes (approval_id, reviewer, verdict, comment, time) VALUES (?, ?, ?, ?, ?)')
      .run(id, vote.reviewer, vote.verdict, vote.comment, vote.time);
    return r.changes === 1;
  }

  async finalize(id: string, status: Exclude<ApprovalStatus, 'pending'>, decidedAt: string, entry: { id: string; index?: number }): Promise<boolean> {
    const r = this.db
      .prepare(`UPDATE approvals SET status = ?, decided_at = ?, final_id = ?, final_index = ? WHERE id = ? AND status = 'pending'`)
      .run(status, decidedAt, entry.id, entry.index ?? null, id);
    return r.changes === 1;
  }

  async consume(id: string, at: string): Promise<boolean> {
    const r = this.db
      .prepare(`UPDATE approvals SET consumed_at = ? WHERE id = ? AND status = 'approved' AND consumed_at IS NULL`)
      .run(at, id);
    return r.changes === 1;
  }

  async due(now: string): Promise<Approval[]> {
    const rows = this.db.prepare(`SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ?`).all(now) as Row[];
    return rows.map((r) => this.hydrate(r));
  }

  /** The embedded store serves one process; should several share the file, the conditional finalize still decides each approval once. */
  async exclusive<T>(task: () => Promise<T>): Promise<T | undefined> {
    return task();
  }

  /** One process serves the embedded store, and the approval service already runs one task per approval at a time. */
  async locked<T>(_id: string, task: () => Promise<T>): Promise<T> {
    return task();
  }

  async saveNotice(d: NoticeDelivery): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO approval_notices (approval_id, channel, status, attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (approval_id, channel) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
           last_error = excluded.last_error, updated_at = excluded.updated_at`,
      )
      .run(d.approvalId, d.channel, d.status, d.attempts, d.lastError ?? null, d.updatedAt);
  }

  async notices(approvalId: string): Promise<NoticeDelivery[]> {
    const rows = this.db.prepare('SELECT * FROM approval_notices WHERE approval_id = ? ORDER BY channel').all(approvalId) as NoticeRow[];
    return rows.map(noticeFromRow);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private hydrate(r: Row): Approval {
    const votes = this.db
      .prepare('SELECT reviewer, verdict, comment, time FROM approval_votes WHERE approval_id = ? ORDER BY time, reviewer')
      .all(r.id) as Vote[];
    return approvalFromRow(r, votes);
  }
}
