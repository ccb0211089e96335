/**
 * PostgreSQL ledger storage for several replicas sharing one log. Any replica sequences: a batch is one statement
 * that takes the next indexes from a locked counter row and inserts the entries (durable once committed — that is
 * the acknowledgement). One replica at a time integrates them into the tree and signs checkpoints
 * (pg-integrator.ts); every replica follows the head through LISTEN/NOTIFY and polling, and answers proofs, tiles
 * and reads from the shared tables.
 */
import pg from 'pg';
import { Integrator } from './pg-integrator.js';
import { concatenate, hashesIn, int, pieces, readHead, type HeadRow } from './pg-queries.js';
import { migrate, quoteSchema } from './pg-schema.js';
import type { NodeRef } from './merkle.js';
import {
  DuplicateIdsError, type LedgerDriver, type LedgerStore, type LogConfig, type SequenceRequest, type Sequenced,
  type SignedTreeHead, type StoredCheckpoint, type StoredEntry, type StoredPayload,
} from './store.js';

export interface PostgresDriverOptions {
  /** Connection string, e.g. postgres://postgres@127.0.0.1:5432/test. */
  url: string;
  /** Schema holding this log's tables (created and migrated on open). */
  schema: string;
  /** Connections for sequencing and reads (default 4). */
  poolSize?: number;
  /** Whether this process takes part in integrating (default true); at most one integrates at a time. */
  integrate?: boolean;
  /** How often the integrator looks for new entries (default 50 ms). */
  integrateEveryMs?: number;
  /** How often a replica re-reads the head besides being notified (default 500 ms). */
  followEveryMs?: number;
  /** How long checkpoint() waits for an integrator to publish (default 30 s). */
  checkpointTimeoutMs?: number;
  /** Told when this process starts or stops integrating. */
  onIntegrator?: (active: boolean) => void;
}

export function postgresDriver(options: PostgresDriverOptions): LedgerDriver {
  quoteSchema(options.schema);
  return { description: `postgres schema ${options.schema}`, open: (log) => PostgresStore.open(options, log) };
}

const CHUNK_ROWS = 4096;
const UNIQUE_VIOLATION = '23505';

export class PostgresStore implements LedgerStore {
  private readonly S: string;
  private readonly channel: string;
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private integrator: Integrator | undefined;
  private current: HeadRow = { size: 0, checkpoint: undefined };
  private headWaiters: (() => void)[] = [];
  private follow: NodeJS.Timeout | undefined;
  private closed = false;

  static async open(options: PostgresDriverOptions, log: LogConfig): Promise<PostgresStore> {
    const store = new PostgresStore(options, log);
    try {
      await store.start();
      return store;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  private constructor(
    private readonly options: PostgresDriverOptions,
    private readonly log: LogConfig,
  ) {
    this.S = quoteSchema(options.schema);
    this.channel = `ledger_${options.schema}`;
    this.pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 4 });
    // An idle connection that breaks is replaced on the next query; it must not crash the process.
    this.pool.on('error', () => undefined);
  }

  private async start(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migrate(client, this.options.schema, this.log);
    } finally {
      client.release();
    }
    await this.listen();
    await this.refreshHead();
    this.follow = setInterval(() => void this.refreshHead().catch(() => undefined), this.options.followEveryMs ?? 500);
    this.follow.unref();
    if (this.options.integrate ?? true) {
      this.integrator = new Integrator({
        url: this.options.url,
        schema: this.options.schema,
        S: this.S,
        channel: this.channel,
        log: this.log,
        everyMs: this.options.integrateEveryMs ?? 50,
        onActive: (active) => this.options.onIntegrator?.(active),
        onHead: (head) => this.advance(head),
      });
    }
  }

  /** Notifications: a size (the integrator moved the head) or 'checkpoint' (a replica waits for one). */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const listener = new pg.Client({ connectionString: this.options.url });
    this.listener = listener;
    listener.on('notification', (message) => {
      if (message.payload === 'checkpoint') {
        if (this.integrator?.isActive()) this.integrator.request();
      } else {
        void this.refreshHead().catch(() => undefined);
      }
    });
    listener.on('error', () => {
      if (this.listener !== listener) return;
      this.listener = undefined;
      listener.end().catch(() => undefined);
      // Polling keeps the head moving meanwhile.
      setTimeout(() => void this.listen().catch(() => undefined), 500).unref();
    });
    await listener.connect();
    await listener.query(`LISTEN "${this.channel}"`);
  }

  /** The head only moves forward, whichever of notification, poll or local integrator reports it first. */
  private advance(head: HeadRow): void {
    const moved = head.size > this.current.size || (head.checkpoint?.size ?? -1) > (this.current.checkpoint?.size ?? -1);
    if (!moved) return;
    this.current = {
      size: Math.max(head.size, this.current.size),
      checkpoint: (head.checkpoint?.size ?? -1) > (this.current.checkpoint?.size ?? -1) ? head.checkpoint : this.current.checkpoint,
    };
    const waiters = this.headWaiters;
    this.headWaiters = [];
    waiters.forEach((w) => w());
  }

  private async refreshHead(): Promise<void> {
    this.advance(await readHead(this.pool, this.S));
  }

  async sequence(request: SequenceRequest): Promise<Sequenced> {
    const { entries, payloads } = request;
    if (entries.length === 0) return { first: this.current.size, committedMs: 0 };
    const started = performance.now();
    const bodies = concatenate(entries.map((e) => e.entry));
    const data = concatenate(payloads.map((p) => p.data));
    const S = this.S;
    try {
      // Every insert joins `head`, so it runs after the counter row is locked: two replicas storing the same payload
      // then queue on the lock instead of deadlocking on each other's uncommitted row.
      const { rows } = await this.pool.query<{ first: string }>({
        // Prepared once per connection: PostgreSQL plans the statement once, not per batch.
        name: `ledger-sequence-${this.options.schema}`,
        text: `WITH head AS (UPDATE ${S}.sequence_head SET next = next + $1 WHERE id = 1 RETURNING next - $1 AS first),
         e AS (INSERT INTO ${S}.entries (idx, id, leaf, entry)
               SELECT head.first + u.ord - 1, u.v, substring($3::bytea FROM (u.ord - 1)::int * 32 + 1 FOR 32), substring($4::bytea FROM u.start + 1 FOR u.len)
               FROM head, ${pieces('$2', '$5', 'text')} u),
         p AS (INSERT INTO ${S}.payloads (digest, data)
               SELECT DISTINCT ON (u.v) u.v, substring($7::bytea FROM u.start + 1 FOR u.len) FROM head, ${pieces('$6', '$8', 'text')} u
               ON CONFLICT (digest) DO NOTHING)
         SELECT first FROM head`,
        values: [
          entries.length, entries.map((e) => e.id), Buffer.concat(entries.map((e) => e.leafHash)), bodies.blob, bodies.ends,
          payloads.map((p) => p.digest), data.blob, data.ends,
        ],
      });
      return { first: int(rows[0]!.first), committedMs: performance.now() - started };
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION || (error as { constraint?: string }).constraint !== 'entries_id_key') throw error;
      const stored = await this.pool.query<{ id: string }>(`SELECT id FROM ${S}.entries WHERE id = ANY($1::text[])`, [entries.map((e) => e.id)]);
      throw new DuplicateIdsError(new Set(stored.rows.map((r) => r.id)));
    }
  }

  async checkpoint(): Promise<SignedTreeHead> {
    const { rows } = await this.pool.query<{ next: string }>(`SELECT next FROM ${this.S}.sequence_head`);
    const sequenced = int(rows[0]!.next);
    const deadline = Date.now() + (this.options.checkpointTimeoutMs ?? 30_000);
    for (;;) {
      await this.refreshHead();
      const latest = this.current.checkpoint;
      if (latest && latest.size >= sequenced) return latest;
      if (this.integrator?.isActive()) this.integrator.request();
      else await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, 'checkpoint']);
      if (Date.now() > deadline) {
        throw new Error(`no checkpoint covering the ${sequenced} sequenced entries was published within ${this.options.checkpointTimeoutMs ?? 30_000} ms: is any replica integrating?`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.headWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  head(): { size: number; checkpoint: SignedTreeHead | undefined } {
    return this.current;
  }

  hashes(refs: readonly NodeRef[]): Promise<(Uint8Array | undefined)[]> {
    return hashesIn(this.pool, this.S, refs);
  }

  async entry(index: number): Promise<Uint8Array | undefined> {
    const { rows } = await this.pool.query<{ entry: Buffer }>(`SELECT entry FROM ${this.S}.entries WHERE idx = $1`, [index]);
    return rows[0]?.entry;
  }

  async indexOfId(id: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ idx: string }>(`SELECT idx FROM ${this.S}.entries WHERE id = $1`, [id]);
    return rows[0] ? int(rows[0].idx) : undefined;
  }

  async entryRange(start: number, count: number): Promise<Uint8Array[]> {
    const { rows } = await this.pool.query<{ entry: Buffer }>(`SELECT entry FROM ${this.S}.entries WHERE idx >= $1 AND idx < $2 ORDER BY idx`, [start, start + count]);
    return rows.map((r) => r.entry);
  }

  async payload(digest: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.pool.query<{ data: Buffer }>(`SELECT data FROM ${this.S}.payloads WHERE digest = $1`, [digest]);
    return rows[0]?.data;
  }

  async deletePayload(digest: string): Promise<boolean> {
    return ((await this.pool.query(`DELETE FROM ${this.S}.payloads WHERE digest = $1`, [digest])).rowCount ?? 0) > 0;
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const { rows } = await this.pool.query<{ seq: string; size: string; note: string }>(`SELECT seq, size, note FROM ${this.S}.checkpoints ORDER BY seq`);
    return rows.map((r) => ({ seq: int(r.seq), size: int(r.size), note: r.note }));
  }

  async *entries(limit: number): AsyncIterableIterator<StoredEntry> {
    const bound = Math.min(limit, this.current.size);
    for (let start = 0; start < bound; start += CHUNK_ROWS) {
      const { rows } = await this.pool.query<{ idx: string; id: string; leaf: Buffer; nodes: Buffer | null; entry: Buffer }>(
        `SELECT e.idx, e.id, e.leaf, n.nodes, e.entry FROM ${this.S}.entries e LEFT JOIN ${this.S}.nodes n USING (idx)
         WHERE e.idx >= $1 AND e.idx < $2 ORDER BY e.idx`,
        [start, Math.min(start + CHUNK_ROWS, bound)],
      );
      for (const r of rows) yield { index: int(r.idx), id: r.id, leafHash: r.leaf, nodes: r.nodes ?? Buffer.alloc(0), entry: r.entry };
    }
  }

  async *payloads(): AsyncIterableIterator<StoredPayload> {
    for (let after = ''; ; ) {
      const { rows } = await this.pool.query<{ digest: string; data: Buffer }>(`SELECT digest, data FROM ${this.S}.payloads WHERE digest > $1 ORDER BY digest LIMIT ${CHUNK_ROWS}`, [after]);
      for (const r of rows) yield { digest: r.digest, data: r.data };
      if (rows.length < CHUNK_ROWS) return;
      after = rows.at(-1)!.digest;
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ value: string }>(`SELECT value FROM ${this.S}.meta WHERE key = $1`, [key]);
    return rows[0]?.value;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.follow) clearInterval(this.follow);
    await this.integrator?.stop((pid) => this.pool.query('SELECT pg_cancel_backend($1)', [pid]).then(() => undefined));
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
