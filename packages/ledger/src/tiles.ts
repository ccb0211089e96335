import { storeLookup, type LedgerStore } from './store.js';

export type TilesResponse = { status: number; headers: Record<string, string>; body: Uint8Array | string };
/** Answers C2SP tlog-tiles GETs; null when the path is not a tiles path. */
export type TilesHandler = (path: string) => Promise<TilesResponse | null>;

const TILE_WIDTH = 256;
const TILE_HEIGHT = 8;
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface TileRequest {
  /** Tile level, or 'entries' for an entry bundle. */
  level: number | 'entries';
  index: number;
  width: number;
}

function text(status: number, body: string, cache = 'no-store'): TilesResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': cache }, body };
}

/** Parses '/tile/<L>/<N>[.p/<W>]' and '/tile/entries/<N>[.p/<W>]'; N is split into x-prefixed 3-digit groups. */
export function parseTilePath(path: string): TileRequest | string {
  const match = /^\/tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!match) return 'malformed tile path';
  const level = match[1] === 'entries' ? 'entries' : Number(match[1]);
  if (level !== 'entries' && level > 63) return 'tile level must be 0..63';
  const groups = match[2]!.split('/');
  if (groups.length > 1 && groups[0] === 'x000') return 'tile index has a leading zero group';
  const index = Number(groups.map((g) => g.replace('x', '')).join(''));
  if (match[3] === undefined) return { level, index, width: TILE_WIDTH };
  const width = Number(match[3]);
  return width < TILE_WIDTH ? { level, index, width } : 'partial tile width must be 1..255';
}

export function tilePath(level: number | 'entries', index: number, width = TILE_WIDTH): string {
  const digits = String(index).padStart(3, '0');
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = padded.match(/.{3}/g)!;
  const encoded = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `/tile/${level}/${encoded}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

function entryBundle(entries: Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(entry.length);
    parts.push(length, Buffer.from(entry));
  }
  return Buffer.concat(parts);
}

export function createTilesHandler(store: Pick<LedgerStore, 'head' | 'entryRange' | 'hashes'>, latestCheckpoint: () => string | undefined): TilesHandler {
  return async (rawPath) => {
    const path = rawPath.split('?')[0]!;
    if (path === '/checkpoint') {
      const note = latestCheckpoint();
      return note ? text(200, note) : text(404, 'no checkpoint yet\n');
    }
    if (!path.startsWith('/tile/')) return null;
    const request = parseTilePath(path);
    if (typeof request === 'string') return text(400, `${request}: ${path}\n`);
    const treeLevel = request.level === 'entries' ? 0 : request.level * TILE_HEIGHT;
    const available = Math.floor(store.head().size / 2 ** treeLevel);
    const start = request.index * TILE_WIDTH;
    if (start + request.width > available) return text(404, `tile not found: ${path}\n`);
    const body =
      request.level === 'entries'
        ? entryBundle(await store.entryRange(start, request.width))
        : Buffer.concat(await storeLookup(store)(Array.from({ length: request.width }, (_, i) => ({ level: treeLevel, index: start + i }))));
    return { status: 200, headers: { 'content-type': 'application/octet-stream', 'cache-control': IMMUTABLE }, body };
  };
}
