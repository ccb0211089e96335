/**
 * What is derived from a session's history, computed once per history. A store hands out the same (read-only)
 * array while a session is unchanged — every decision of a request, every request until the next append — so a
 * value kept per array is current for exactly as long as the history it came from.
 */
import type { SessionEntry } from '../stores/session-history.js';

export function perHistory<T>(derive: (entries: readonly SessionEntry[]) => T): (entries: readonly SessionEntry[]) => T {
  const memo = new WeakMap<readonly SessionEntry[], T>();
  return (entries) => {
    let value = memo.get(entries);
    if (value === undefined) memo.set(entries, (value = derive(entries)));
    return value;
  };
}
