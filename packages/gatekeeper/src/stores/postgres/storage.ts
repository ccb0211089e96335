/**
 * `storage.postgres`: one connection pool and one schema shared by the PostgreSQL drivers of every store port, so
 * replicas pointed at the same schema share one ledger, one approval queue, one set of budget counters, the
 * console's sign-ins and the session history. Opening migrates the schema (or refuses a newer one); a periodic ping tells /readyz whether
 * the database is reachable.
 */
import pg from 'pg';
import { postgresDriver, type LedgerDriver } from '@oagf/ledger';
import type { PostgresStorageConfig } from '../../config/schema.js';
import { envSecret } from '../../config/secrets.js';
import { PostgresApprovalStore } from './approvals.js';
import { PostgresBudgetStore } from './budgets.js';
import { PostgresNotifier } from './notifier.js';
import { migrate } from './schema.js';
import { PostgresSessionHistoryStore } from './session-history.js';
import { PostgresSessionStore } from './sessions.js';
import type { SessionHistoryLimits } from '../session-history.js';

const PING_EVERY_MS = 2000;
/** Approvals being decided at once by this replica (each holds one connection while it is). */
const LOCK_CONNECTIONS = 4;

export class PostgresStorage {
  private problem: string | undefined;
  private pinging = false;
  private integrating = false;
  private answeredAt = 0;
  private readonly pinger: NodeJS.Timeout;

  static async open(config: PostgresStorageConfig, env: NodeJS.ProcessEnv): Promise<PostgresStorage> {
    const url = typeof config.url === 'string' ? config.url : envSecret(config.url, env, 'storage.postgres.url');
    const pool = new pg.Pool({ connectionString: url, max: config.pool.max, connectionTimeoutMillis: config.pool.connect_timeout_ms });
    // A connection that breaks while idle is replaced on the next query; it must not crash the process.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migrate(client, config.schema);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`storage.postgres: ${(error as Error).message.replace(/^storage\.postgres: /, '')}`, { cause: error });
    }
    return new PostgresStorage(pool, new pg.Pool({ connectionString: url, max: LOCK_CONNECTIONS, connectionTimeoutMillis: config.pool.connect_timeout_ms }), url, config);
  }

  private constructor(
    readonly pool: pg.Pool,
    /** Connections that hold per-approval locks while the locked work queries through `pool`. */
    private readonly locks: pg.Pool,
    private readonly url: string,
    private readonly config: PostgresStorageConfig,
  ) {
    this.locks.on('error', () => undefined);
    this.pinger = setInterval(() => void this.ping(), PING_EVERY_MS);
    this.pinger.unref();
  }

  get schema(): string {
    return this.config.schema;
  }

  approvals(): PostgresApprovalStore {
    return new PostgresApprovalStore(this.pool, this.locks, this.schema);
  }

  budgets(): PostgresBudgetStore {
    return new PostgresBudgetStore(this.pool, this.schema);
  }

  sessions(): PostgresSessionStore {
    return new PostgresSessionStore(this.pool, this.schema);
  }

  sessionHistory(limits: SessionHistoryLimits): PostgresSessionHistoryStore {
    return new PostgresSessionHistoryStore(this.pool, this.schema, limits);
  }

  notifier(): Promise<PostgresNotifier> {
    return PostgresNotifier.open(this.url, this.pool, this.schema);
  }

  /** Every replica sequences; `onIntegrator` hears when this one starts or stops integrating (one at a time does). */
  ledgerDriver(onIntegrator?: (active: boolean) => void): LedgerDriver {
    return postgresDriver({
      url: this.url,
      schema: this.schema,
      poolSize: this.config.pool.ledger_max,
      onIntegrator: (active) => {
        this.integrating = active;
        onIntegrator?.(active);
      },
    });
  }

  /** What /readyz shows: the shared schema, and whether this replica is the one integrating the ledger now. */
  status(): { backend: 'postgres'; schema: string; ledger_integrator: boolean } {
    return { backend: 'postgres', schema: this.schema, ledger_integrator: this.integrating };
  }

  /** Why the database is not usable, as of the last ping (undefined: it answered). */
  notReady(): string | undefined {
    return this.problem;
  }

  /** Whether a ping sent after `time` (epoch ms) was answered. */
  answeredSince(time: number): boolean {
    return this.answeredAt > time;
  }

  async ping(): Promise<void> {
    // One at a time: against a database that does not answer, a ping lasts up to the connect timeout.
    if (this.pinging) return;
    this.pinging = true;
    try {
      const started = Date.now();
      await this.pool.query('SELECT 1');
      this.answeredAt = started;
      this.problem = undefined;
    } catch (error) {
      this.problem = `PostgreSQL (storage.postgres) cannot be reached: ${(error as Error).message}`;
    } finally {
      this.pinging = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    await Promise.all([this.pool, this.locks].map((p) => p.end().catch(() => undefined)));
  }
}
