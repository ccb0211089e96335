import { postgresDriver } from '@oagf/ledger';
import { PG_URL, freshSchema, postgresUnavailable } from './pg-helpers.js';
import { storeContract } from './store-contract.js';

const skip = await postgresUnavailable();

storeContract('postgres', async () => {
  const schema = freshSchema();
  const driver = () => postgresDriver({ url: PG_URL, schema, integrateEveryMs: 10 });
  return { driver: driver(), reopen: driver };
}, skip);
