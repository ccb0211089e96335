/**
 * Encoding builtins (OPA topdown/encoding.go): base64, base64url, hex, urlquery, json and yaml.
 * Byte-level codecs work on the UTF-8 bytes of the string, as Go does.
 */
import { parse as yamlParse, stringify as yamlStringify, YAMLParseError, type Tags } from 'yaml';
import { fromJSON, isArray, isSet, makeObject, typeName, type Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { obj, operandErr, str } from './operands.js';
import { JSONSyntaxError, isValidJSON, marshal, parseJSON } from './go/json.js';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Go base64 decoding (padding required, CR/LF ignored); `url` selects the URL alphabet. */
function base64Decode(s: string, url: boolean): string {
  const clean = s.replace(/[\r\n]/g, '');
  const alpha = url ? 'A-Za-z0-9_-' : 'A-Za-z0-9+/';
  const re = new RegExp(`^(?:[${alpha}]{4})*(?:[${alpha}]{2}==|[${alpha}]{3}=)?$`);
  if (!re.test(clean)) {
    const bad = new RegExp(`[^${alpha}=]`).exec(clean);
    const at = bad ? bad.index : Math.max(0, clean.length - (clean.length % 4 || 4));
    throw new BuiltinError(`illegal base64 data at input byte ${at}`);
  }
  return Buffer.from(clean, url ? 'base64url' : 'base64').toString('utf8');
}

function hexDecode(s: string): string {
  const b = utf8(s);
  const val = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);
  const invalid = (c: number): BuiltinError => {
    const ch = String.fromCodePoint(c);
    return new BuiltinError(`encoding/hex: invalid byte: U+${c.toString(16).toUpperCase().padStart(4, '0')} '${ch}'`);
  };
  let j = 1;
  for (; j < b.length; j += 2) {
    if (val(b[j - 1]) < 0) throw invalid(b[j - 1]);
    if (val(b[j]) < 0) throw invalid(b[j]);
  }
  if (b.length % 2 === 1) {
    if (val(b[j - 1]) < 0) throw invalid(b[j - 1]);
    throw new BuiltinError('encoding/hex: odd length hex string');
  }
  return Buffer.from(s, 'hex').toString('utf8');
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const byte of utf8(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's url.QueryUnescape. */
export function queryUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) {
        throw new BuiltinError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      }
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === '+') bytes.push(0x20);
    else bytes.push(...utf8(c));
  }
  return Buffer.from(bytes).toString('utf8');
}

function encodeObject(o: Value): string {
  const m = obj(o, 1);
  const bad = (): BuiltinError => operandErr(1, 'values must be string, array[string], or set[string]');
  const pairs: [string, string[]][] = [];
  for (const [k, v] of m.entries()) {
    if (typeof k !== 'string') throw bad();
    if (typeof v === 'string') pairs.push([k, [v]]);
    else if (isArray(v) || isSet(v)) {
      const xs = isArray(v) ? v : v.values();
      if (!xs.every((x) => typeof x === 'string')) throw bad();
      pairs.push([k, xs as string[]]);
    } else throw bad();
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.flatMap(([k, vs]) => vs.map((v) => `${queryEscape(k)}=${queryEscape(v)}`)).join('&');
}

/** Go's url.ParseQuery: values per key in order of appearance. */
function decodeObject(q: string): Value {
  const out = new Map<string, string[]>();
  for (const part of q.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) throw new BuiltinError('invalid semicolon separator in query');
    const eq = part.indexOf('=');
    const k = queryUnescape(eq < 0 ? part : part.slice(0, eq));
    const v = queryUnescape(eq < 0 ? '' : part.slice(eq + 1));
    const list = out.get(k) ?? [];
    list.push(v);
    out.set(k, list);
  }
  return makeObject([...out].map(([k, vs]) => [k, vs]));
}

function marshalWithOptions(x: Value, o: Value): string {
  const opts = obj(o, 2);
  let indent = '\t';
  let prefix = '';
  let implicitPretty = false;
  let explicit: boolean | undefined;
  opts.keys().forEach((k, idx) => {
    const v = opts.get(k)!;
    if (typeof k !== 'string') throw operandErr(2, `failed to stringify key ${JSON.stringify(k)} at index ${idx}: operand ${idx} must be string but got ${typeName(k)}`);
    switch (k) {
      case 'prefix':
        if (typeof v !== 'string') throw operandErr(2, `key ${k} failed cast to string: operand ${idx} must be string but got ${typeName(v)}`);
        prefix = v;
        implicitPretty = true;
        break;
      case 'indent':
        if (typeof v !== 'string') throw operandErr(2, `key ${k} failed cast to string: operand ${idx} must be string but got ${typeName(v)}`);
        indent = v;
        implicitPretty = true;
        break;
      case 'pretty':
        if (typeof v !== 'boolean') throw operandErr(2, `key ${k} failed cast to bool`);
        explicit = v;
        break;
      default:
        throw operandErr(2, `object contained unknown key ${JSON.stringify(k)}`);
    }
  });
  const pretty = explicit ?? implicitPretty;
  return pretty ? prefix + marshal(x, indent, prefix) : marshal(x);
}

/** go-yaml style messages for the common syntax errors, so callers see the same text as with OPA. */
function yamlError(e: YAMLParseError): BuiltinError {
  const line = e.linePos?.[0]?.line ?? 1;
  const msg = e.code === 'MISSING_CHAR' || e.code === 'BAD_INDENT' || /flow/i.test(e.message)
    ? "did not find expected ',' or ']'"
    : e.message.split('\n')[0];
  return new BuiltinError(`yaml: line ${line}: ${msg}`);
}

/**
 * YAML 1.1 as go-yaml v2 (behind OPA's sigs.k8s.io/yaml) reads it: yes/no/on/off are booleans,
 * 0777 is octal, merge keys apply; timestamps and sexagesimal numbers stay strings.
 */
const YAML_OPTIONS = {
  version: '1.1' as const,
  intAsBigInt: true,
  merge: true,
  maxAliasCount: 100,
  uniqueKeys: false,
  customTags: (tags: Tags): Tags => tags.filter((t) => typeof t === 'string'
    ? t !== 'timestamp' && t !== 'intTime' && t !== 'floatTime'
    : t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME'),
};

function finite(x: unknown): unknown {
  if (typeof x === 'number' && !Number.isFinite(x)) throw new BuiltinError(`json: unsupported value: ${x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN'}`);
  if (Array.isArray(x)) x.forEach(finite);
  else if (x !== null && typeof x === 'object') Object.values(x).forEach(finite);
  return x;
}

function yamlToValue(s: string): Value {
  try {
    const doc = yamlParse(s, YAML_OPTIONS);
    return fromJSON(finite(doc ?? null));
  } catch (e) {
    if (e instanceof YAMLParseError) throw yamlError(e);
    if (e instanceof BuiltinError) throw e;
    throw new BuiltinError(`yaml: ${(e as Error).message}`);
  }
}

function valueToYAML(v: Value): string {
  // through JSON text, as OPA does, so sets become lists and numbers keep their digits
  const doc = yamlParse(marshal(v), { intAsBigInt: true });
  return yamlStringify(doc, { version: '1.1', indentSeq: false, lineWidth: 0 });
}

export const builtins: BuiltinTable = {
  'base64.encode': { name: 'base64.encode', args: ['string'], result: 'string', fn: ([x]) => utf8(str(x, 1)).toString('base64') },
  'base64.decode': { name: 'base64.decode', args: ['string'], result: 'string', fn: ([x]) => base64Decode(str(x, 1), false) },
  'base64.is_valid': {
    name: 'base64.is_valid',
    args: ['any'],
    result: 'boolean',
    fn: ([x]) => {
      if (typeof x !== 'string') return false;
      try {
        base64Decode(x, false);
        return true;
      } catch {
        return false;
      }
    },
  },
  'base64url.encode': { name: 'base64url.encode', args: ['string'], result: 'string', fn: ([x]) => utf8(str(x, 1)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_') },
  'base64url.encode_no_pad': { name: 'base64url.encode_no_pad', args: ['string'], result: 'string', fn: ([x]) => utf8(str(x, 1)).toString('base64url') },
  'base64url.decode': {
    name: 'base64url.decode',
    args: ['string'],
    result: 'string',
    fn: ([x]) => {
      let s = str(x, 1);
      if (!s.endsWith('=')) {
        const r = s.length % 4;
        if (r === 2) s += '==';
        else if (r === 3) s += '=';
        else if (r === 1) throw new BuiltinError(`illegal base64url string: ${s}`);
      }
      return base64Decode(s, true);
    },
  },
  'hex.encode': { name: 'hex.encode', args: ['string'], result: 'string', fn: ([x]) => utf8(str(x, 1)).toString('hex') },
  'hex.decode': { name: 'hex.decode', args: ['string'], result: 'string', fn: ([x]) => hexDecode(str(x, 1)) },
  'urlquery.encode': { name: 'urlquery.encode', args: ['string'], result: 'string', fn: ([x]) => queryEscape(str(x, 1)) },
  'urlquery.decode': { name: 'urlquery.decode', args: ['string'], result: 'string', fn: ([x]) => queryUnescape(str(x, 1)) },
  'urlquery.encode_object': { name: 'urlquery.encode_object', args: ['object'], result: 'string', fn: ([x]) => encodeObject(x) },
  'urlquery.decode_object': { name: 'urlquery.decode_object', args: ['string'], result: 'object', fn: ([x]) => decodeObject(str(x, 1)) },
  'json.marshal': { name: 'json.marshal', args: ['any'], result: 'string', fn: ([x]) => marshal(x) },
  'json.marshal_with_options': {
    name: 'json.marshal_with_options',
    args: ['any', 'object'],
    result: 'string',
    fn: ([x, o]) => marshalWithOptions(x, o),
  },
  'json.unmarshal': {
    name: 'json.unmarshal',
    args: ['string'],
    result: 'any',
    fn: ([x]) => {
      try {
        return parseJSON(str(x, 1));
      } catch (e) {
        if (e instanceof JSONSyntaxError) throw new BuiltinError(e.message);
        throw e;
      }
    },
  },
  'json.is_valid': {
    name: 'json.is_valid',
    args: ['any'],
    result: 'boolean',
    fn: ([x]) => typeof x === 'string' && isValidJSON(x),
  },
  'yaml.marshal': { name: 'yaml.marshal', args: ['any'], result: 'string', fn: ([x]) => valueToYAML(x) },
  'yaml.unmarshal': { name: 'yaml.unmarshal', args: ['string'], result: 'any', fn: ([x]) => yamlToValue(str(x, 1)) },
  'yaml.is_valid': {
    name: 'yaml.is_valid',
    args: ['any'],
    result: 'boolean',
    fn: ([x]) => {
      if (typeof x !== 'string') return false;
      try {
        yamlToValue(x);
        return true;
      } catch {
        return false;
      }
    },
  },
};
