/**
 * Budget windows. All boundaries are UTC so every replica of the gatekeeper agrees on
 * which window a call falls into, whatever the host's time zone.
 */
export const WINDOWS = ['call', 'minute', 'hour', 'day', 'month', 'lifetime'] as const;
export type WindowKind = (typeof WINDOWS)[number];

export interface WindowBounds {
  /** Epoch ms of the window's first instant; 0 for lifetime, the call time for `call`. */
  start: number;
  /** Epoch ms of the first instant after the window; null when it never ends. */
  end: number | null;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function windowBounds(kind: WindowKind, nowMs: number): WindowBounds {
  switch (kind) {
    case 'call':
      return { start: nowMs, end: nowMs };
    case 'minute': {
      const start = Math.floor(nowMs / MINUTE) * MINUTE;
      return { start, end: start + MINUTE };
    }
    case 'hour': {
      const start = Math.floor(nowMs / HOUR) * HOUR;
      return { start, end: start + HOUR };
    }
    case 'day': {
      const start = Math.floor(nowMs / DAY) * DAY;
      return { start, end: start + DAY };
    }
    case 'month': {
      const d = new Date(nowMs);
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      return { start, end };
    }
    case 'lifetime':
      return { start: 0, end: null };
  }
}

/** A per-call window keeps no running total: each call is held against the cap alone. */
export function isAccumulating(kind: WindowKind): boolean {
  return kind !== 'call';
}
