/** net.cidr_* builtins (OPA topdown/cidr.go, internal/cidr/merge) over Go's net.IP semantics. */
import { isArray, isObject, isSet, makeSet, type Value } from '../value.js';
import {
  bigToBytes, bigToFixed, bytesToBig, cidrMask, compareBytes, defaultMask, ipEqual, ipString, maskIP, maskSize,
  netContains, netString, parseCIDR, parseIP, ParseError, to4, type IP, type IPNet,
} from './go/ip.js';
import { typeErr } from './operands.js';
import { BuiltinError, type BuiltinDef, type BuiltinTable } from './registry.js';

// Policies test many addresses against a few CIDRs: remember parsed networks (bounded).
const netCache = new Map<string, IPNet>();
const MAX_CACHED_NETS = 10_000;

function getNet(s: string): IPNet {
  const hit = netCache.get(s);
  if (hit) return hit;
  let n: IPNet;
  try {
    n = parseCIDR(s).net;
  } catch (e) {
    if (e instanceof ParseError) throw new BuiltinError(e.message);
    throw e;
  }
  if (netCache.size >= MAX_CACHED_NETS) netCache.clear();
  netCache.set(s, n);
  return n;
}

function lastIP(n: IPNet): IP {
  const { ones, bits } = maskSize(n.mask);
  if (ones === 0 && bits === 0) throw new BuiltinError('CIDR mask is in non-standard format');
  if (ones === bits) return n.ip;
  const first = bytesToBig(n.ip);
  const last = (((1n << BigInt(bits - ones)) - 1n) | first);
  return bigToFixed(last, bits / 8);
}

function cidrContains(cidr: string, cidrOrIP: string): boolean {
  const a = getNet(cidr);
  const ip = parseIP(cidrOrIP);
  if (ip) return netContains(a, ip);
  let b: IPNet;
  try {
    b = parseCIDR(cidrOrIP).net;
  } catch {
    throw new BuiltinError(`not a valid textual representation of an IP address or CIDR: ${cidrOrIP}`);
  }
  return netContains(a, b.ip) && netContains(a, lastIP(b));
}

const MATCH_ELEMENT_ERR = 'element must be string or non-empty array';

function matchTerm(v: Value, operand: number): Value {
  if (typeof v === 'string') return v;
  if (isArray(v) && v.length > 0) return v[0]!;
  throw new BuiltinError(`operand ${operand}: ${MATCH_ELEMENT_ERR}`);
}

/** (cidr, index) pairs of a cidr_contains_matches operand. */
function matchOperand(v: Value, operand: number): [Value, Value][] {
  if (typeof v === 'string') return [[v, v]];
  if (isArray(v)) return v.map((x, i) => [matchTerm(x, operand), i]);
  if (isSet(v)) return v.values().map((x) => [matchTerm(x, operand), x]);
  if (isObject(v)) return v.entries().map(([k, x]) => [matchTerm(x, operand), k]);
  return [];
}

function cidrContainsMatches(a: Value, b: Value): Value {
  const out: Value[] = [];
  const left = matchOperand(a, 1);
  const right = matchOperand(b, 2);
  for (const [c1, i1] of left) {
    for (const [c2, i2] of right) {
      if (typeof c1 !== 'string') throw typeErr(1, c1, 'string');
      if (typeof c2 !== 'string') throw typeErr(1, c2, 'string');
      if (cidrContains(c1, c2)) out.push([i1, i2]);
    }
  }
  return makeSet(out);
}

// OPA has no limit; a gateway cannot hold a /8 expanded in memory, so expansion stops at 2^20 hosts.
const EXPAND_LIMIT = 1 << 20;

function cidrExpand(s: string): Value {
  let parsed;
  try {
    parsed = parseCIDR(s);
  } catch (e) {
    if (e instanceof ParseError) throw new BuiltinError(e.message);
    throw e;
  }
  const { net } = parsed;
  const { ones, bits } = maskSize(net.mask);
  if (2 ** (bits - ones) > EXPAND_LIMIT) {
    throw new BuiltinError(`CIDR ${s} expands to more than ${EXPAND_LIMIT} addresses`);
  }
  const start = bytesToBig(net.ip);
  const count = 1n << BigInt(bits - ones);
  const out: string[] = [];
  for (let i = 0n; i < count; i++) out.push(ipString(bigToFixed(start + i, net.ip.length)));
  return makeSet(out);
}

// --- net.cidr_merge (cilium's algorithm, as vendored by OPA) -------------------------------

interface Range { first: IP; last: IP; network?: IPNet }

const V4_PREFIX = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
const DEFAULT_V4 = Uint8Array.from([...V4_PREFIX, 0, 0, 0, 0]);
const DEFAULT_V6 = new Uint8Array(16);
const UPPER_V4 = Uint8Array.from([...V4_PREFIX, 255, 255, 255, 255]);
const UPPER_V6 = new Uint8Array(16).fill(0xff);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function addressRange(n: IPNet): [IP, IP] {
  let first: IP = maskIP(n.ip, n.mask) ?? new Uint8Array(0);
  let last: IP = Uint8Array.from(first);
  if (to4(first)) {
    first = concat(V4_PREFIX, first);
    last = concat(V4_PREFIX, last);
  }
  const m = n.mask;
  for (let i = 0; i < m.length; i++) {
    const inv = ~m[m.length - i - 1]! & 0xff;
    last[16 - i - 1] = last[16 - i - 1]! | inv;
  }
  return [first, last];
}

function previousIP(ip: IP): IP {
  if (ipEqual(ip, DEFAULT_V4) || ipEqual(ip, DEFAULT_V6)) return ip;
  const prev = Uint8Array.from(ip);
  const lower = to4(ip) ? 12 : 0;
  let overflow = false;
  for (let i = ip.length - 1; i >= lower; i--) {
    if (overflow || i === ip.length - 1) prev[i] = (prev[i]! - 1) & 0xff;
    overflow = ip[i] === 0 && prev[i] === 255;
  }
  return prev;
}

function nextIP(ip: IP): IP {
  if (ipEqual(ip, UPPER_V4) || ipEqual(ip, UPPER_V6)) return ip;
  if (ip.length === 4) return bigToFixed((bytesToBig(ip) + 1n) & 0xffffffffn, 4);
  if (ip.length !== 16) return ip;
  const lo = (bytesToBig(ip.subarray(8)) + 1n) & 0xffffffffffffffffn;
  const hi = lo === 0n ? (bytesToBig(ip.subarray(0, 8)) + 1n) & 0xffffffffffffffffn : bytesToBig(ip.subarray(0, 8));
  return concat(bigToFixed(hi, 8), bigToFixed(lo, 8));
}

function spanningCIDR(firstIP: IP, lastIP: IP): IPNet {
  const isV4 = to4(firstIP) !== undefined;
  const bitLen = isV4 ? 32 : 128;
  const byteLen = isV4 ? 4 : 16;
  let maskSizeBits = bitLen;
  const lowest = bytesToBig(firstIP);
  let highest = bytesToBig(lastIP);
  while (maskSizeBits > 0 && lowest < highest) {
    maskSizeBits--;
    highest &= -(1n << BigInt(bitLen - maskSizeBits));
  }
  let hb = isV4 ? concat(new Uint8Array(10), bigToBytes(highest)) : bigToBytes(highest);
  if (hb.length === 0) hb = new Uint8Array(byteLen);
  return { ip: hb, mask: cidrMask(maskSizeBits, bitLen) };
}

function partitionCIDR(target: IPNet, exclude: IPNet): [IPNet[], IPNet[]] {
  const targetIsV4 = to4(target.ip) !== undefined;
  const [tFirst, tLast] = addressRange(target);
  const [eFirst, eLast] = addressRange(exclude);
  const tSize = maskSize(target.mask).ones;
  const eSize = maskSize(exclude.mask).ones;
  if (compareBytes(eLast, tFirst) < 0) return [[], [target]];
  if (compareBytes(tLast, eFirst) < 0) return [[target], []];
  if (tSize >= eSize) return [[], []];
  const left: IPNet[] = [];
  const right: IPNet[] = [];
  let newPrefix = tSize + 1;
  const bitLen = targetIsV4 ? 32 : 128;
  let lower = bytesToBig(tFirst);
  let upper = bytesToBig(tFirst) + (1n << BigInt(bitLen - newPrefix));
  let matched = 0n;
  const toBytes = (x: bigint) => (targetIsV4 ? concat(new Uint8Array(10), bigToBytes(x)) : bigToFixed(x, 16));
  while (eSize >= newPrefix) {
    const upperBytes = toBytes(upper);
    const lowerBytes = toBytes(lower);
    if (compareBytes(eFirst, upperBytes) >= 0) {
      left.push({ ip: lowerBytes, mask: cidrMask(newPrefix, bitLen) });
      matched = upper;
    } else {
      right.push({ ip: upperBytes, mask: cidrMask(newPrefix, bitLen) });
      matched = lower;
    }
    newPrefix++;
    if (newPrefix > bitLen) break;
    lower = matched;
    upper = matched + (1n << BigInt(bitLen - newPrefix));
  }
  return [left, right];
}

function rangeToCIDRs(firstIP: IP, lastIP: IP): IPNet[] {
  let span = spanningCIDR(firstIP, lastIP);
  const [spanFirst, spanLast] = addressRange(span);
  let list: IPNet[] = [];
  if (compareBytes(spanFirst, firstIP) < 0) {
    const prev = previousIP(firstIP);
    const bitLen = to4(prev) ? 32 : 128;
    const [, right] = partitionCIDR(span, { ip: prev, mask: cidrMask(bitLen, bitLen) });
    list.push(...right);
    span = right[0]!;
    list = list.slice(1);
  }
  if (compareBytes(spanLast, lastIP) > 0) {
    const next = nextIP(lastIP);
    const bitLen = to4(next) ? 32 : 128;
    const [left] = partitionCIDR(span, { ip: next, mask: cidrMask(bitLen, bitLen) });
    list.push(...left);
  } else {
    list.push(span);
  }
  return list;
}

function generateIPNet(v: Value): IPNet {
  if (typeof v !== 'string') throw new BuiltinError('element must be string');
  const ip = parseIP(v);
  if (!ip) return getNet(v);
  if (to4(ip)) return { ip, mask: defaultMask(ip)! };
  throw new BuiltinError('IPv6 invalid: needs prefix length');
}

function cidrMerge(v: Value): Value {
  let items: Value[];
  if (isArray(v)) items = v;
  else if (isSet(v)) items = v.values();
  else throw new BuiltinError('operand must be an array');
  const networks = items.map(generateIPNet);
  let ranges: Range[] = networks.map((network) => {
    const [first, last] = addressRange(network);
    return { first, last, network };
  });
  ranges.sort((a, b) => compareBytes(a.last, b.last) || compareBytes(a.first, b.first));
  for (let i = ranges.length - 1; i > 0; i--) {
    const prev = previousIP(ranges[i]!.first);
    if (compareBytes(prev, ranges[i - 1]!.last) <= 0) {
      const first = compareBytes(ranges[i - 1]!.first, ranges[i]!.first) < 0 ? ranges[i - 1]!.first : ranges[i]!.first;
      ranges[i - 1] = { first: Uint8Array.from(first), last: Uint8Array.from(ranges[i]!.last) };
      ranges = [...ranges.slice(0, i), ...ranges.slice(i + 1)];
    }
  }
  const out: string[] = [];
  for (const r of ranges) {
    if (r.network) out.push(netString(r.network));
    else for (const n of rangeToCIDRs(r.first, r.last)) out.push(netString(n));
  }
  return makeSet(out);
}

const MATCH_OPERAND = 'string|array[string|array[any]]|set[string|array[any]]|object[string:string|array[any]]';

const table: BuiltinDef[] = [
  { name: 'net.cidr_contains', args: ['string', 'string'], result: 'boolean',
    fn: ([a, b]) => cidrContains(a as string, b as string) },
  { name: 'net.cidr_overlap', args: ['string', 'string'], result: 'boolean',
    fn: ([a, b]) => cidrContains(a as string, b as string) },
  { name: 'net.cidr_intersects', args: ['string', 'string'], result: 'boolean',
    fn: ([a, b]) => {
      const x = getNet(a as string);
      const y = getNet(b as string);
      return netContains(x, y.ip) || netContains(y, x.ip);
    } },
  { name: 'net.cidr_contains_matches', args: [MATCH_OPERAND, MATCH_OPERAND], result: 'set[array[any]]',
    fn: ([a, b]) => cidrContainsMatches(a!, b!) },
  { name: 'net.cidr_expand', args: ['string'], result: 'set[string]', fn: ([s]) => cidrExpand(s as string) },
  { name: 'net.cidr_is_valid', args: ['string'], result: 'boolean',
    fn: ([s]) => {
      if (typeof s !== 'string') return false;
      try {
        parseCIDR(s);
        return true;
      } catch {
        return false;
      }
    } },
  { name: 'net.cidr_merge', args: ['array[string]|set[string]'], result: 'set[string]', fn: ([v]) => cidrMerge(v!) },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
