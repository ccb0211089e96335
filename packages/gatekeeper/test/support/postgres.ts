/**
 * PostgreSQL for tests (127.0.0.1:5432, trust, database test): each test gets its own schema, dropped when the test
 * file finishes; a test file skips, saying why, when the server cannot be reached.
 */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { GatekeeperConfig } from '../../src/config/schema.js';
import { PostgresStorage } from '../../src/stores/postgres/storage.js';

export const PG_URL = process.env.GATEKEEPER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers, else why not (the skip message). */
export function postgresUnavailable(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return `PostgreSQL at ${PG_URL} cannot be reached (${(error as Error).message}); .ci/run starts it`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** A fresh schema name, dropped with everything in it when the test file finishes. */
export function freshSchema(prefix = 'gk_test'): string {
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  after(() => pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  return schema;
}

export async function pgQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** `storage.postgres` as gatekeeper.yaml gives it. */
export function postgresConfig(schema: string, url = PG_URL) {
  return GatekeeperConfig.parse({ policy: { bundle: 'unused' }, ledger: { signing_key_file: 'unused' }, storage: { postgres: { url, schema } } }).storage.postgres!;
}

/** Opens storage on a fresh schema; closed (before the schema is dropped) when the file finishes. */
export async function freshStorage(schema = freshSchema()): Promise<PostgresStorage> {
  const storage = await PostgresStorage.open(postgresConfig(schema), {});
  after(() => storage.close());
  return storage;
}
