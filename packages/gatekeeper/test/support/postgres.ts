/**
 * PostgreSQL for tests (127.0.0.1:5432, trust, database test): each test gets its own schema, dropped when the test
 * file finishes; a test file skips, saying why, when the server cannot be reached.
 */
import { after } from 'node:test';
import { GatekeeperConfig } from '../../src/config/schema.js';
import { PostgresStorage } from '../../src/stores/postgres/storage.js';
import { freshSchema as ledgerFreshSchema, PG_URL } from '../../../ledger/test/pg-helpers.js';

// One PostgreSQL helper for the repository's tests (server, reachability, schema per test): the ledger's.
export { PG_URL, pgQuery, postgresUnavailable } from '../../../ledger/test/pg-helpers.js';

/** A fresh schema name, dropped with everything in it when the test file finishes. */
export const freshSchema = (prefix = 'gk_test'): string => ledgerFreshSchema(prefix);

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
