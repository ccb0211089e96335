/** Reading a whole ledger back in tests (the ledger's reads are async). */
import type { Ledger, LedgerRecord } from '@oagf/ledger';

export async function ledgerRecords(ledger: Ledger): Promise<LedgerRecord[]> {
  return Promise.all(Array.from({ length: ledger.size() }, async (_, i) => (await ledger.getRecord(i))!));
}
