// Go's encoding/base64 decoding (with its exact CorruptInputError offsets) and an
// encoding/json-compatible parser and marshaller over Rego values. OPA's crypto
// and JWT builtins surface these errors verbatim, and their signed output depends
// on Go's JSON text (sorted keys, HTML-safe escapes).
import { numFromString, numToString } from '../num.js';
import { isArray, isNum, isObject, isSet, makeObject, type Value } from '../value.js';

export class GoDecodeError extends Error {}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function decodeMap(alphabet: string): Int16Array {
  const m = new Int16Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) m[alphabet.charCodeAt(i)] = i;
  return m;
}
const STD_MAP = decodeMap(STD);
const URL_MAP = decodeMap(URL);

const corrupt = (at: number) => new GoDecodeError(`illegal base64 data at input byte ${at}`);

/** base64.Encoding.DecodeString (padded unless `raw`), ignoring \r and \n like Go. */
function decode(src: Uint8Array, map: Int16Array, padded: boolean): Buffer {
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let done = false;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        if (j === 1 || padded) throw corrupt(si - j);
        dlen = j;
        done = true;
        break;
      }
      const c = src[si]!;
      si++;
      const v = map[c]!;
      if (v >= 0) {
        dbuf[j] = v;
        continue;
      }
      if (c === 10 || c === 13) {
        j--;
        continue;
      }
      if (!padded || c !== 61) throw corrupt(si - 1);
      if (j === 0 || j === 1) throw corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
        if (si === src.length) throw corrupt(src.length);
        if (src[si] !== 61) throw corrupt(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 10 || src[si] === 13)) si++;
      if (si < src.length) throw corrupt(si);
      dlen = j;
      done = true;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    out.push(...bytes.slice(0, dlen - 1));
    if (done) break;
  }
  return Buffer.from(out);
}

export function base64StdDecode(s: string): Buffer {
  return decode(Buffer.from(s, 'utf8'), STD_MAP, true);
}

/** OPA's base64url.decode: pads unpadded input (RFC 7515 appendix C) before decoding. */
export function base64UrlDecodeLenient(s: string): Buffer {
  if (!s.endsWith('=')) {
    switch (Buffer.byteLength(s) % 4) {
      case 0: break;
      case 2: s += '=='; break;
      case 3: s += '='; break;
      default: throw new GoDecodeError(`illegal base64url string: ${s}`);
    }
  }
  return decode(Buffer.from(s, 'utf8'), URL_MAP, true);
}

export function base64RawUrlEncode(b: Uint8Array | string): string {
  return Buffer.from(b).toString('base64url');
}

// ---------------------------------------------------------------------------
// JSON

export class GoJSONError extends Error {}

// Deep enough for any real token or document, shallow enough to keep the recursion off the stack limit.
const MAX_JSON_DEPTH = 2000;

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  const code = c.charCodeAt(0);
  if (code < 0x20) return `'${JSON.stringify(c).slice(1, -1)}'`;
  return `'${c}'`;
}

/** encoding/json Unmarshal into a Rego value: exact numbers, last duplicate key wins. */
export function goParseJSON(text: string): Value {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (context: string): never => {
    if (i >= n) throw new GoJSONError('unexpected end of JSON input');
    throw new GoJSONError(`invalid character ${quoteChar(text[i]!)} ${context}`);
  };
  let depth = 0;
  const value = (): Value => {
    ws();
    if (depth >= MAX_JSON_DEPTH) throw new GoJSONError('exceeded max depth');
    if (i >= n) fail('looking for beginning of value');
    const c = text[i]!;
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (c === lit[0]) {
        for (let k = 0; k < lit.length; k++, i++) {
          if (text[i] !== lit[k]) fail(`in literal ${lit} (expecting ${quoteChar(lit[k]!)})`);
        }
        return v;
      }
    }
    return fail('looking for beginning of value');
  };
  const object = (): Value => {
    i++;
    depth++;
    const entries: [Value, Value][] = [];
    ws();
    if (text[i] === '}') {
      i++;
      depth--;
      return makeObject(entries);
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail('looking for beginning of object key string');
      const k = string();
      ws();
      if (text[i] !== ':') fail('after object key');
      i++;
      entries.push([k, value()]);
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === '}') { i++; depth--; return makeObject(entries); }
      fail('after object key:value pair');
    }
  };
  const array = (): Value => {
    i++;
    depth++;
    const items: Value[] = [];
    ws();
    if (text[i] === ']') {
      i++;
      depth--;
      return items;
    }
    for (;;) {
      items.push(value());
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === ']') { i++; depth--; return items; }
      fail('after array element');
    }
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('in string literal');
      i++;
    }
    if (i >= n) fail('in string literal');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('in string escape code');
    }
  };
  const number = (): Value => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m || m[0] === '-') {
      i += m ? 1 : 0;
      fail('in numeric literal');
    }
    i += m![0].length;
    return numFromString(m![0])!;
  };
  const v = value();
  ws();
  if (i < n) fail('after top-level value');
  return v;
}

export function isValidJSON(text: string): boolean {
  try {
    goParseJSON(text);
    return true;
  } catch {
    return false;
  }
}

function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** json.Marshal of a Rego value as OPA produces it (object keys sorted, sets as arrays). */
export function goMarshal(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return goQuote(v);
  if (isNum(v)) return numToString(v);
  if (isArray(v)) return `[${v.map(goMarshal).join(',')}]`;
  if (isSet(v)) return `[${v.values().map(goMarshal).join(',')}]`;
  if (isObject(v)) {
    const entries = v.entries().map(([k, x]) => [typeof k === 'string' ? k : goMarshal(k), x] as const);
    entries.sort((a, b) => (Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]))));
    return `{${entries.map(([k, x]) => `${goQuote(k)}:${goMarshal(x)}`).join(',')}}`;
  }
  throw new GoJSONError('unsupported value');
}
