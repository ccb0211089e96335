/**
 * One mapping between a session history entry and its table row, shared by the SQLite and PostgreSQL drivers: the
 * entry as JSON text (the fingerprints' length as `print_chars`), its fingerprints as little-endian uint32s.
 */
import type { EntryUpdate, SessionEntry } from './session-history.js';

export interface SessionRow {
  entry: string;
  print: Buffer | null;
}

/** An entry, or an update as the JSON to merge into the row's entry and the new fingerprints (null: unchanged). */
export function encodeEntry(entry: SessionEntry | EntryUpdate): SessionRow {
  const { print, ...rest } = entry;
  if (!print) return { entry: JSON.stringify(rest), print: null };
  const bytes = Buffer.alloc(print.hashes.length * 4);
  for (let i = 0; i < print.hashes.length; i++) bytes.writeUInt32LE(print.hashes[i]!, i * 4);
  return { entry: JSON.stringify({ ...rest, print_chars: print.chars }), print: bytes };
}

export function decodeEntry(row: SessionRow): SessionEntry {
  const { print_chars, ...entry } = JSON.parse(row.entry) as SessionEntry & { print_chars?: number };
  if (!row.print) return entry;
  const hashes = new Uint32Array(row.print.length / 4);
  for (let i = 0; i < hashes.length; i++) hashes[i] = row.print.readUInt32LE(i * 4);
  return { ...entry, print: { chars: print_chars ?? 0, hashes } };
}
