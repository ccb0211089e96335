/**
 * The PostgreSQL ledger schema and its versioned migrations. The code creates and migrates its own schema on open,
 * under an advisory lock so replicas starting together migrate once, and refuses to run against a schema newer
 * than it knows (a rollback of the code must not write into a layout it does not understand).
 */
import type pg from 'pg';
import { bindLogMeta, type LogConfig } from './store.js';

/** Each entry migrates the schema from version index to index + 1; `S` stands for the quoted schema name. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE S.meta (key text PRIMARY KEY, value text NOT NULL);
  -- Sequencing: the next index to hand out. A batch takes its indexes by updating this row, which it keeps locked
  -- until it commits, so batches commit in index order and committed entries are always a dense prefix.
  CREATE TABLE S.sequence_head (id int PRIMARY KEY CHECK (id = 1), next bigint NOT NULL);
  INSERT INTO S.sequence_head VALUES (1, 0);
  CREATE TABLE S.entries (idx bigint PRIMARY KEY, id text NOT NULL UNIQUE, leaf bytea NOT NULL, entry bytea NOT NULL);
  -- Integration: the tree size the integrator has reached, and the interior nodes each integrated append completed
  -- (rows only for appends that completed at least one; same layout as the SQLite nodes column).
  CREATE TABLE S.tree_head (id int PRIMARY KEY CHECK (id = 1), size bigint NOT NULL);
  INSERT INTO S.tree_head VALUES (1, 0);
  CREATE TABLE S.nodes (idx bigint PRIMARY KEY, nodes bytea NOT NULL);
  CREATE TABLE S.payloads (digest text PRIMARY KEY, data bytea NOT NULL);
  CREATE TABLE S.checkpoints (seq bigserial PRIMARY KEY, size bigint NOT NULL, note text NOT NULL);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name as a quoted identifier; only plain lowercase names are accepted, so nothing needs escaping. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lowercase letters, digits and _`);
  return `"${schema}"`;
}

/** Advisory lock keys of a schema: [class, object] pairs derived from its name (hashtext in SQL). */
export const LOCK = { migrate: 1, integrate: 2 } as const;

/**
 * Creates or migrates the schema and binds it to the log, in one transaction under an advisory lock. Throws on a
 * schema version newer than this code's, and on a schema that belongs to another origin.
 */
export async function migrate(client: pg.ClientBase, schema: string, log: LogConfig): Promise<void> {
  const S = quoteSchema(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', [schema, LOCK.migrate]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${S}.schema_version (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL)`);
    const found = await client.query<{ version: number }>(`SELECT version FROM ${S}.schema_version`);
    const version = found.rows[0]?.version ?? 0;
    if (version > SCHEMA_VERSION) {
      throw new Error(`ledger schema ${schema} is at version ${version}, newer than this code supports (${SCHEMA_VERSION}); upgrade the code, or use another schema`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) await client.query(MIGRATIONS[v]!.replaceAll('S.', `${S}.`));
    await client.query(`INSERT INTO ${S}.schema_version VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version`, [SCHEMA_VERSION]);
    const meta = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${S}.meta WHERE key IN ('origin', 'vkeys') FOR UPDATE`);
    const get = (key: string) => meta.rows.find((r) => r.key === key)?.value;
    const bound = bindLogMeta(log, get('origin'), get('vkeys'), `schema ${schema}`);
    for (const [key, value] of Object.entries(bound)) {
      await client.query(`INSERT INTO ${S}.meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
