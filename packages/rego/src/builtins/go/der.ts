// A small DER reader: enough ASN.1 to walk X.509 certificates and PKCS#10 requests.

export class DerError extends Error {}

export interface Node {
  /** class bits and constructed flag included, e.g. 0x30 for SEQUENCE, 0xa3 for [3] */
  tag: number;
  /** whole TLV */
  raw: Buffer;
  /** contents */
  body: Buffer;
}

export function readNode(buf: Buffer, off = 0): { node: Node; next: number } {
  if (off + 2 > buf.length) throw new DerError('truncated');
  const tag = buf[off]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let len = buf[off + 1]!;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new DerError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new DerError('truncated');
  return { node: { tag, raw: buf.subarray(off, p + len), body: buf.subarray(p, p + len) }, next: p + len };
}

export function children(n: Node): Node[] {
  const out: Node[] = [];
  let off = 0;
  while (off < n.body.length) {
    const { node, next } = readNode(n.body, off);
    out.push(node);
    off = next;
  }
  return out;
}

export function expect(n: Node | undefined, tag: number): Node {
  if (!n || n.tag !== tag) throw new DerError(`tags don't match (${tag} vs ${n?.tag ?? 'none'})`);
  return n;
}

export function oid(n: Node): number[] {
  const b = expect(n, 0x06).body;
  const out: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      if (out.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        out.push(first, v - first * 40);
      } else {
        out.push(v);
      }
      v = 0;
    }
  }
  return out;
}

export function integer(n: Node): bigint {
  const b = expect(n, 0x02).body;
  if (b.length === 0) return 0n;
  let v = BigInt(`0x${b.toString('hex')}`);
  if (b[0]! & 0x80) v -= 1n << BigInt(b.length * 8);
  return v;
}

export function bitString(n: Node): { bytes: Buffer; unused: number } {
  const b = expect(n, 0x03).body;
  return { bytes: b.subarray(1), unused: b[0] ?? 0 };
}

/** Any of the ASN.1 string types, as text. */
export function text(n: Node): string {
  switch (n.tag) {
    case 0x1e: { // BMPString: UTF-16BE
      const b = Buffer.from(n.body);
      b.swap16();
      return b.toString('utf16le');
    }
    case 0x1c: // UniversalString: UTF-32BE
      return String.fromCodePoint(...Array.from({ length: n.body.length / 4 }, (_, i) => n.body.readUInt32BE(i * 4)));
    default:
      return n.body.toString(n.tag === 0x0c ? 'utf8' : 'latin1');
  }
}

/** UTCTime / GeneralizedTime as RFC 3339 text (UTC), as Go's time.Time marshals it. */
export function time(n: Node): string {
  const s = n.body.toString('latin1');
  let m: RegExpExecArray | null;
  if (n.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s))) {
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return `${year}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}Z`;
  }
  if (n.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(s))) {
    const frac = m[7] ? m[7].replace(/0+$/, '') : '';
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac === '.' ? '' : frac}Z`;
  }
  throw new DerError(`invalid time ${s}`);
}
