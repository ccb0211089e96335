/** Reading a whole ledger back in tests (the ledger's reads are async). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLedger, type Ledger, type LedgerRecord } from '@oagf/ledger';

export async function ledgerRecords(ledger: Ledger): Promise<LedgerRecord[]> {
  return Promise.all(Array.from({ length: ledger.size() }, async (_, i) => (await ledger.getRecord(i))!));
}

/** Every record of the ledger a demo left in `dir`. */
export async function demoLedgerRecords(dir: string): Promise<LedgerRecord[]> {
  const ledger = await openLedger({ path: join(dir, 'ledger.db'), origin: 'gatekeeper-demo.local/ledger', signingKey: readFileSync(join(dir, 'ledger.skey'), 'utf8').trim() });
  try {
    return await ledgerRecords(ledger);
  } finally {
    await ledger.close();
  }
}
