/**
 * Integration for the PostgreSQL store: one process at a time — the holder of a session advisory lock — reads the
 * entries sequenced past the tree's size, computes the interior nodes their appends complete, and commits them with
 * the new size and, when due, a signed checkpoint. Every other process waits on the lock; when the holder dies its
 * session ends, PostgreSQL releases the lock and a waiter takes over from the committed state (an interrupted round
 * is rolled back whole, so nothing is half-integrated).
 */
import pg from 'pg';
import { signCheckpoint } from './checkpoint.js';
import { CompactRange } from './merkle.js';
import { LOCK } from './pg-schema.js';
import { concatenate, hashesIn, int, pieces, readHead, type HeadRow } from './pg-queries.js';
import type { LogConfig } from './store.js';

/** Entries integrated per round at most (one round trip to read them, one to commit). */
const ROUND = 8192;
/** Waiting on the lock gives up after this long and starts again, so a stop is never stuck behind it. */
const LOCK_WAIT = '2s';

export interface IntegratorOptions {
  url: string;
  schema: string;
  /** Quoted schema name. */
  S: string;
  channel: string;
  log: LogConfig;
  everyMs: number;
  /** Told when this process starts or stops integrating. */
  onActive(active: boolean): void;
  /** Told the head after every round that moved it. */
  onHead(head: HeadRow): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Integrator {
  private client: pg.Client | undefined;
  private stopping = false;
  private active = false;
  /** A checkpoint covering everything integrated is wanted (checkpoint() here or on another replica). */
  private wanted = false;
  private wake: (() => void) | undefined;
  private readonly running: Promise<void>;

  constructor(private readonly opts: IntegratorOptions) {
    this.running = this.run();
  }

  isActive(): boolean {
    return this.active;
  }

  /** Asks for a checkpoint at the next round (which starts now). */
  request(): void {
    this.wanted = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.connectAndLock();
        if (this.stopping) break;
        await this.integrate();
      } catch {
        // Lost the connection or the database refused a round: start over from the committed state.
      } finally {
        this.release();
      }
      if (!this.stopping) await sleep(200);
    }
  }

  private async connectAndLock(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.url });
    this.client = client;
    client.on('error', () => undefined);
    await client.connect();
    // A waiter whose process died stops waiting within a second instead of taking the lock for a dead client.
    await client.query(`SET client_connection_check_interval = '1s'`);
    await client.query(`SET lock_timeout = '${LOCK_WAIT}'`);
    for (;;) {
      if (this.stopping) return;
      try {
        await client.query('SELECT pg_advisory_lock(hashtext($1), $2)', [this.opts.schema, LOCK.integrate]);
        break;
      } catch (error) {
        // 55P03: lock_timeout passed, 57014: our stop() cancelled the wait.
        const code = (error as { code?: string }).code;
        if (code !== '55P03' && code !== '57014') throw error;
      }
    }
    await client.query(`SET lock_timeout = 0`);
  }

  private release(): void {
    const client = this.client;
    this.client = undefined;
    if (this.active) {
      this.active = false;
      this.opts.onActive(false);
    }
    // Ending the session releases the lock (and rolls back a round in progress).
    client?.end().catch(() => undefined);
  }

  private async integrate(): Promise<void> {
    const client = this.client!;
    const { S, log } = this.opts;
    const head = await readHead(client, S);
    let range = await CompactRange.load(head.size, async (refs) =>
      (await hashesIn(client, S, refs)).map((hash, i) => {
        if (!hash) throw new Error(`ledger schema ${this.opts.schema} is missing the hash at level ${refs[i]!.level}, index ${refs[i]!.index}`);
        return hash;
      }),
    );
    let checkpoint = head.checkpoint;
    let checkpointAt = Date.now();
    this.active = true;
    this.opts.onActive(true);
    for (;;) {
      const stopping = this.stopping;
      // On the way out, the last round signs what it integrated so the log's tail is covered.
      if (stopping) this.wanted = true;
      const wanted = this.wanted;
      this.wanted = false;
      const { rows } = await client.query<{ idx: string; leaf: Buffer }>({
        name: `ledger-sequenced-${this.opts.schema}`,
        text: `SELECT idx, leaf FROM ${S}.entries WHERE idx >= $1 ORDER BY idx LIMIT ${ROUND}`,
        values: [range.length],
      });
      const next = range.clone();
      const completed: { idx: number; nodes: Uint8Array }[] = [];
      for (const row of rows) {
        // Batches commit in index order, so committed entries are dense; stop at a gap rather than trust it.
        if (int(row.idx) !== next.length) break;
        const nodes: Uint8Array[] = [];
        const idx = next.length;
        next.append(row.leaf, (node) => nodes.push(node.hash));
        if (nodes.length > 0) completed.push({ idx, nodes: Buffer.concat(nodes) });
      }
      const due = wanted || next.length - (checkpoint?.size ?? 0) >= log.checkpointEvery.entries ||
        (log.checkpointEvery.ms > 0 && Date.now() - checkpointAt >= log.checkpointEvery.ms);
      const note = due && next.length !== checkpoint?.size ? signCheckpoint(log, next.length, next.root()) : null;
      if (next.length !== range.length || note) {
        await this.commitRound(range.length, next.length, completed, note);
        range = next;
        if (note) {
          checkpoint = { size: next.length, note };
          checkpointAt = Date.now();
        }
        this.opts.onHead({ size: range.length, checkpoint });
      }
      if (stopping) return;
      if (rows.length < ROUND) await this.pause();
    }
  }

  /** One statement (so one implicit transaction): nodes, the new size — only if the size is still ours — and the checkpoint. */
  private async commitRound(from: number, to: number, completed: { idx: number; nodes: Uint8Array }[], note: string | null): Promise<void> {
    const { S, channel } = this.opts;
    const { blob, ends } = concatenate(completed.map((c) => c.nodes));
    const { rows } = await this.client!.query<{ moved: string }>({
      name: `ledger-integrate-${this.opts.schema}`,
      text: `WITH head AS (UPDATE ${S}.tree_head SET size = $2 WHERE id = 1 AND size = $1 RETURNING size),
       n AS (INSERT INTO ${S}.nodes (idx, nodes) SELECT u.v, substring($4::bytea FROM u.start + 1 FOR u.len) FROM head, ${pieces('$3', '$5', 'int8')} u),
       c AS (INSERT INTO ${S}.checkpoints (size, note) SELECT $2, $6 FROM head WHERE $6::text IS NOT NULL),
       told AS (SELECT pg_notify($7, $2::text) FROM head)
       SELECT (SELECT count(*) FROM head) AS moved, (SELECT count(*) FROM told) AS told`,
      values: [from, to, completed.map((c) => c.idx), blob, ends, note, channel],
    });
    if (int(rows[0]!.moved) !== 1) throw new Error(`ledger schema ${this.opts.schema}: the tree size moved under the integrator`);
  }

  private pause(): Promise<void> {
    if (this.stopping || this.wanted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.opts.everyMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** Integrates and signs what is left (if this process integrates), then releases the lock or stops waiting for it. */
  async stop(cancelWait: (pid: number) => Promise<void>): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const pid = (this.client as unknown as { processID?: number } | undefined)?.processID;
    if (!this.active && pid !== undefined) await cancelWait(pid).catch(() => undefined);
    await this.running;
  }
}
