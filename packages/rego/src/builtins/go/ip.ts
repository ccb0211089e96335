// Go's net.IP / net.IPNet semantics (4- and 16-byte forms, masks, String()),
// ported closely because OPA's net.cidr_* answers follow their quirks
// (e.g. class-based default masks in net.cidr_merge).

export type IP = Uint8Array<ArrayBufferLike>;
export interface IPNet { ip: IP; mask: IP }

const V4_IN_V6_PREFIX = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

export class ParseError extends Error {}

function eqBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** bytes.Compare */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length === 0 ? 0 : a.length < b.length ? -1 : 1;
}

function v4Mapped(b4: Uint8Array): IP {
  const out = new Uint8Array(16);
  out.set(V4_IN_V6_PREFIX, 0);
  out.set(b4, 12);
  return out;
}

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // netip rejects empty fields, leading zeros and values above 255
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Uint8Array | undefined {
  if (s.includes('%')) return undefined; // zones are rejected by ParseIP / ParseCIDR
  const out = new Uint8Array(16);
  let ellipsis = -1;
  let i = 0;
  let rest = s;
  if (rest.startsWith('::')) {
    ellipsis = 0;
    rest = rest.slice(2);
    if (rest === '') return out;
  }
  while (i < 16) {
    const m = /^[0-9a-fA-F]{1,4}/.exec(rest);
    if (!m) return undefined;
    // an embedded IPv4 address may close the address
    if (rest.length > m[0].length && rest[m[0].length] === '.') {
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      const v4 = parseV4(rest);
      if (!v4) return undefined;
      out.set(v4, i);
      i += 4;
      rest = '';
      break;
    }
    const val = parseInt(m[0], 16);
    out[i] = val >> 8;
    out[i + 1] = val & 0xff;
    i += 2;
    rest = rest.slice(m[0].length);
    if (rest === '') break;
    if (rest[0] !== ':' || rest.length === 1) return undefined;
    rest = rest.slice(1);
    if (rest[0] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      rest = rest.slice(1);
      if (rest === '') break;
    }
  }
  if (rest !== '') return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) out[j + n] = out[j]!;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) out[j] = 0;
  } else if (ellipsis >= 0) {
    return undefined; // "::" must stand for at least one group
  }
  return out;
}

/** netip.ParseAddr: 16 bytes plus whether the text was a plain IPv4 address. */
export function parseAddr(s: string): { ip: IP; is4: boolean } | undefined {
  if (s.includes(':')) {
    const v6 = parseV6(s);
    return v6 && { ip: v6, is4: false };
  }
  const v4 = parseV4(s);
  return v4 && { ip: v4Mapped(v4), is4: true };
}

/** net.ParseIP: a 16-byte IP, or undefined. */
export function parseIP(s: string): IP | undefined {
  return parseAddr(s)?.ip;
}

export function cidrMask(ones: number, bits: number): IP {
  const m = new Uint8Array(bits / 8);
  for (let i = 0; i < m.length; i++) {
    const n = Math.max(0, Math.min(8, ones - i * 8));
    m[i] = (0xff << (8 - n)) & 0xff;
  }
  return m;
}

/** net.ParseCIDR: the address and the masked network. */
export function parseCIDR(s: string): { ip: IP; net: IPNet } {
  const bad = () => new ParseError(`invalid CIDR address: ${s}`);
  const slash = s.indexOf('/');
  if (slash < 0) throw bad();
  const addr = parseAddr(s.slice(0, slash));
  const maskText = s.slice(slash + 1);
  if (!addr || !/^[0-9]+$/.test(maskText) || maskText.length > 10) throw bad();
  const bits = addr.is4 ? 32 : 128;
  const n = Number(maskText);
  if (n > bits) throw bad();
  const mask = cidrMask(n, bits);
  return { ip: addr.ip, net: { ip: maskIP(addr.ip, mask)!, mask } };
}

export function to4(ip: IP): IP | undefined {
  if (ip.length === 4) return ip;
  if (ip.length === 16 && eqBytes(ip.subarray(0, 12), V4_IN_V6_PREFIX)) return ip.slice(12);
  return undefined;
}

/** IP.Mask */
export function maskIP(ip: IP, mask: IP): IP | undefined {
  if (mask.length === 16 && ip.length === 4 && mask.subarray(0, 12).every((b) => b === 0xff)) mask = mask.subarray(12);
  if (mask.length === 4 && ip.length === 16 && eqBytes(ip.subarray(0, 12), V4_IN_V6_PREFIX)) ip = ip.subarray(12);
  if (ip.length !== mask.length) return undefined;
  const out = new Uint8Array(ip.length);
  for (let i = 0; i < ip.length; i++) out[i] = ip[i]! & mask[i]!;
  return out;
}

export function ipEqual(a: IP, b: IP): boolean {
  if (a.length === b.length) return eqBytes(a, b);
  if (a.length === 4 && b.length === 16) return eqBytes(b.subarray(0, 12), V4_IN_V6_PREFIX) && eqBytes(a, b.subarray(12));
  if (a.length === 16 && b.length === 4) return eqBytes(a.subarray(0, 12), V4_IN_V6_PREFIX) && eqBytes(a.subarray(12), b);
  return false;
}

function networkNumberAndMask(n: IPNet): { ip: IP; mask: IP } | undefined {
  let ip = to4(n.ip);
  if (!ip) {
    ip = n.ip;
    if (ip.length !== 16) return undefined;
  }
  let mask = n.mask;
  if (mask.length === 4) {
    if (ip.length !== 4) return undefined;
  } else if (mask.length === 16) {
    if (ip.length === 4) mask = mask.subarray(12);
  } else {
    return undefined;
  }
  return { ip, mask };
}

/** IPNet.Contains */
export function netContains(n: IPNet, ip: IP): boolean {
  const nm = networkNumberAndMask(n);
  if (!nm) return false;
  const x = to4(ip) ?? ip;
  if (x.length !== nm.ip.length) return false;
  for (let i = 0; i < x.length; i++) if ((nm.ip[i]! & nm.mask[i]!) !== (x[i]! & nm.mask[i]!)) return false;
  return true;
}

/** Number of leading ones of a canonical mask, -1 when not canonical. */
function simpleMaskLength(mask: IP): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    let v = mask[i]!;
    if (v === 0xff) { n += 8; continue; }
    while (v & 0x80) { n++; v = (v << 1) & 0xff; }
    if (v !== 0) return -1;
    for (i++; i < mask.length; i++) if (mask[i] !== 0) return -1;
    break;
  }
  return n;
}

/** IPMask.Size */
export function maskSize(mask: IP): { ones: number; bits: number } {
  const ones = simpleMaskLength(mask);
  return ones === -1 ? { ones: 0, bits: 0 } : { ones, bits: mask.length * 8 };
}

/** IP.String */
export function ipString(ip: IP): string {
  if (ip.length === 0) return '<nil>';
  if (ip.length !== 4 && ip.length !== 16) return '?' + Buffer.from(ip).toString('hex');
  const v4 = to4(ip);
  if (v4) return Array.from(v4).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip[i]! << 8) | ip[i + 1]!);
  let zs = -1;
  let ze = -1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > ze - zs) { zs = i; ze = j; }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === zs) {
      out += '::';
      i = ze - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += groups[i]!.toString(16);
  }
  return out;
}

/** IPNet.String */
export function netString(n: IPNet): string {
  const nm = networkNumberAndMask(n);
  if (!nm) return '<nil>';
  const l = simpleMaskLength(nm.mask);
  if (l === -1) return `${ipString(nm.ip)}/${Buffer.from(nm.mask).toString('hex')}`;
  return `${ipString(nm.ip)}/${l}`;
}

/** IP.DefaultMask: the class A/B/C mask of an IPv4 address. */
export function defaultMask(ip: IP): IP | undefined {
  const v4 = to4(ip);
  if (!v4) return undefined;
  if (v4[0]! < 0x80) return cidrMask(8, 32);
  if (v4[0]! < 0xc0) return cidrMask(16, 32);
  return cidrMask(24, 32);
}

export function bytesToBig(b: Uint8Array): bigint {
  let x = 0n;
  for (const v of b) x = (x << 8n) | BigInt(v);
  return x;
}

/** big.Int.Bytes(): minimal big-endian bytes (empty for zero). */
export function bigToBytes(x: bigint): Uint8Array {
  const out: number[] = [];
  while (x > 0n) {
    out.unshift(Number(x & 0xffn));
    x >>= 8n;
  }
  return Uint8Array.from(out);
}

/** Big-endian bytes of x padded (or cut) to len bytes. */
export function bigToFixed(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
