/** PostgreSQL for tests: each test gets its own schema, dropped afterwards; tests skip (saying why) without a server. */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';

export const PG_URL = process.env.OAGF_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers, else why not (for the skip message). */
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

/** A fresh schema name, dropped (with everything in it) when the test file finishes. */
export function freshSchema(prefix = 'ledger_test'): string {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  after(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
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
