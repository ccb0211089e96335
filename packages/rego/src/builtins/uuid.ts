/** uuid.rfc4122 and uuid.parse (OPA topdown/uuid.go, google/uuid parsing rules). */
import { randomBytes } from 'node:crypto';
import { numFromJS } from '../num.js';
import { makeObject, valueToString, type Value } from '../value.js';
import type { BuiltinDef, BuiltinTable } from './registry.js';

function newV4(): string {
  const b = randomBytes(16);
  b[8] = (b[8]! & 0x3f) | 0x80;
  b[6] = (b[6]! & 0x0f) | 0x40;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** google/uuid.Parse: canonical, {braced}, urn:uuid: and bare 32-hex forms. */
function parseUUID(s: string): Buffer | undefined {
  let body: string;
  switch (s.length) {
    case 36: body = s; break;
    case 38:
      if (s[0] !== '{' || s[37] !== '}') return undefined;
      body = s.slice(1, 37);
      break;
    case 45:
      if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return undefined;
      body = s.slice(9);
      break;
    case 32:
      return /^[0-9a-fA-F]{32}$/.test(s) ? Buffer.from(s, 'hex') : undefined;
    default:
      return undefined;
  }
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(body)) return undefined;
  return Buffer.from(body.replace(/-/g, ''), 'hex');
}

function variant(b: Buffer): string {
  if ((b[8]! & 0xc0) === 0x80) return 'RFC4122';
  if ((b[8]! & 0xe0) === 0xc0) return 'Microsoft';
  if ((b[8]! & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

function macVariables(b: number): string {
  if ((b & 3) === 3) return 'local:multicast';
  if ((b & 1) === 1) return 'global:multicast';
  if ((b & 2) === 2) return 'local:unicast';
  return 'global:unicast';
}

const GREGORIAN_TO_UNIX_100NS = 122192928000000000n;

function describe(b: Buffer): Value {
  const version = b[6]! >> 4;
  const out: [Value, Value][] = [['version', version], ['variant', variant(b)]];
  if (version === 1 || version === 2) {
    const t = BigInt(b.readUInt32BE(0)) | (BigInt(b.readUInt16BE(4)) << 32n) | (BigInt(b.readUInt16BE(6) & 0xfff) << 48n);
    const since = t - GREGORIAN_TO_UNIX_100NS;
    // Go: sec = since/1e7 (truncating), nsec = (since%1e7)*100
    const ns = (since / 10_000_000n) * 1_000_000_000n + (since % 10_000_000n) * 100n;
    out.push(['time', numFromJS(ns)]);
    const node = b.subarray(10, 16);
    out.push(['nodeid', [...node].map((x) => x.toString(16).padStart(2, '0')).join('-')]);
    out.push(['macvariables', macVariables(node[0]!)]);
    out.push(['clocksequence', b.readUInt16BE(8) & 0x3fff]);
    if (version === 2) {
      out.push(['id', b.readUInt32BE(0)]);
      const domain = b[9]!;
      out.push(['domain', ['Person', 'Group', 'Org'][domain] ?? `Domain${domain}`]);
    }
  }
  return makeObject(out);
}

const table: BuiltinDef[] = [
  { name: 'uuid.rfc4122', args: ['string'], result: 'string', nondeterministic: true,
    fn: ([k], ctx) => {
      // One UUID per key per query, as OPA caches it in the builtin context.
      const key = `uuid.rfc4122:${valueToString(k!)}`;
      let v = ctx.cache.get(key) as string | undefined;
      if (v === undefined) {
        v = newV4();
        ctx.cache.set(key, v);
      }
      return v;
    } },
  { name: 'uuid.parse', args: ['string'], result: 'object[string:any]',
    fn: ([s]) => {
      const b = parseUUID(s as string);
      return b && describe(b);
    } },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
