/** How many `serve` worker processes a configuration can run on. */
import type { GatekeeperConfig } from '../config/schema.js';

/** What in a configuration lives in one process, so that workers would split it. */
function singleProcessParts(config: GatekeeperConfig): string[] {
  const parts: string[] = [];
  // An MCP session (Mcp-Session-Id) and the supervised stdio servers exist in the process that opened them; cluster
  // workers get connections round-robin, so a session's next request would land where it is unknown.
  if (config.mcp) parts.push('mcp (sessions and stdio servers live in one process)');
  // The sandbox's concurrency limit, queue and warm pool are per process: N workers would run N times as many.
  if (config.sandbox) parts.push('sandbox (its concurrency limit and queue are per process)');
  return parts;
}

/**
 * The worker count to start: the one asked for, or the default (one per core) unless the configuration has a
 * part that cannot be split over processes — then 1, and asking for more explicitly is an error naming the part.
 */
export function workerCount(config: GatekeeperConfig, requested: number, explicit: boolean): { count: number; note?: string } {
  const parts = singleProcessParts(config);
  if (requested <= 1 || parts.length === 0) return { count: requested };
  if (explicit) throw new Error(`--workers ${requested}: this configuration runs in one process because of ${parts.join(' and ')}; use --workers 1`);
  return { count: 1, note: `one process (not one per core) because of ${parts.join(' and ')}` };
}
