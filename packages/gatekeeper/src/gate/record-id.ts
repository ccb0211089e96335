/**
 * Ids of the gate's ledger records: UUIDv7 (RFC 9562 §5.7) — the Unix time in ms in the first 48 bits, 74 random
 * bits after it. The ledger keeps a unique index on record ids; random (v4) ids put every new record on a random
 * page of that index, so each record of a group commit dirtied (and wrote to the WAL) a page of its own. Time-ordered
 * ids all land on the index's right edge: one page per commit. A record id names a record; it is no secret (the
 * record carries its time anyway).
 */
import { randomUUID } from 'node:crypto';

export function recordId(now = Date.now()): string {
  const ms = now.toString(16).padStart(12, '0');
  // randomUUID's v4 layout is xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (V: the RFC variant): keep its random bits and
  // variant, put the time in front and the version 7 in place of the 4.
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
