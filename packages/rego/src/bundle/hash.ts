/**
 * File digests of bundle signatures, as OPA computes them: raw bytes for policies; for structured files
 * (data.json, data.yaml, .manifest) the parsed document re-encoded with object keys in byte order and no
 * whitespace, numbers as written, so a signature does not depend on formatting.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';

export const HASH_ALGORITHMS: Record<string, string> = {
  MD5: 'md5', 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224', 'SHA-512-256': 'sha512-256',
};

/** A number kept as its source text, so that `2.0` hashes as `2.0`, as Go's json.Number does. */
class Num { constructor(readonly text: string) {} }
type Doc = null | boolean | string | Num | Doc[] | { [k: string]: Doc };

/** JSON text to a document that keeps number literals (bundle data is JSON as written). */
function parseKeepingNumbers(text: string): Doc {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const fail = (): never => { throw new Error(`invalid JSON at offset ${i}`); };
  const value = (depth: number): Doc => {
    if (depth > 1000) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      const o: { [k: string]: Doc } = {};
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        const k = value(depth + 1);
        if (typeof k !== 'string') fail();
        ws(); if (text[i++] !== ':') fail();
        o[k as string] = value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === '}') return o;
        fail();
      }
    }
    if (c === '[') {
      i++; ws();
      const a: Doc[] = [];
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === ']') return a;
        fail();
      }
    }
    if (c === '"') {
      const m = /^"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/.exec(text.slice(i));
      if (!m) fail();
      i += m![0].length;
      return JSON.parse(m![0]) as string;
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
    return m![0] === 'true' ? true : m![0] === 'false' ? false : m![0] === 'null' ? null : new Num(m![0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail();
  return v;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Go's json.Encoder with HTML escaping off: U+2028 and U+2029 are still escaped. */
const quote = (s: string) => JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

function encode(v: Doc | unknown, out: string[]): void {
  if (v instanceof Num) out.push(v.text);
  else if (Array.isArray(v)) { out.push('['); v.forEach((x, i) => { if (i) out.push(','); encode(x, out); }); out.push(']'); }
  else if (v && typeof v === 'object') {
    out.push('{');
    Object.keys(v).sort(byteOrder).forEach((k, i) => { if (i) out.push(','); out.push(quote(k), ':'); encode((v as Record<string, unknown>)[k], out); });
    out.push('}');
  } else if (typeof v === 'string') out.push(quote(v));
  else out.push(JSON.stringify(v ?? null));
}

/** The canonical text of a structured document (a plain JS value, or JSON/YAML file bytes). */
export function canonicalDocument(v: unknown): string {
  const out: string[] = [];
  encode(v, out);
  return out.join('');
}

export const isStructured = (path: string): boolean => {
  const base = path.split('/').pop();
  return base === 'data.json' || base === 'data.yaml' || base === '.signatures.json' || base === '.manifest';
};

/** The digest OPA signs for a bundle file. */
export function fileDigest(path: string, data: Buffer, algorithm = 'SHA-256'): string {
  const alg = HASH_ALGORITHMS[algorithm];
  if (!alg) throw new Error(`unsupported hashing algorithm: ${algorithm}`);
  const h = createHash(alg);
  if (!isStructured(path)) h.update(data);
  else {
    const text = data.toString('utf8');
    h.update(canonicalDocument(path.endsWith('.yaml') ? parseYaml(text) : parseKeepingNumbers(text)));
  }
  return h.digest('hex');
}
