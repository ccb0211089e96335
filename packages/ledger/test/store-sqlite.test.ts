import { join } from 'node:path';
import { sqliteDriver } from '@oagf/ledger';
import { tempDir } from './helpers.js';
import { storeContract } from './store-contract.js';

const dir = tempDir();
let files = 0;

for (const durability of ['fsync', 'buffered'] as const) {
  storeContract(`sqlite (${durability})`, async () => {
    const path = join(dir, `contract-${files++}.db`);
    return { driver: sqliteDriver({ path, durability }), reopen: () => sqliteDriver({ path, durability }) };
  });
}
