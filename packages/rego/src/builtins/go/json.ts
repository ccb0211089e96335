/**
 * Go's encoding/json over Rego values, as OPA uses it: Unmarshal (numbers parsed exactly, the last duplicate key
 * wins, the scanner's error texts) and Marshal / MarshalIndent (keys in byte order, `<`, `>`, `&`, U+2028 and
 * U+2029 escaped, sets as arrays). The crypto and JWT builtins surface these errors verbatim and sign this text.
 * The parser is iterative, so hostile nesting cannot overflow the stack.
 */
import { numFromString, numToString } from '../../num.js';
import { isArray, isNum, isObject, isSet, makeObject, type Value } from '../../value.js';

export class JSONSyntaxError extends Error {}

/** The nesting limit of Go's scanner (maxNestingDepth), for callers that want Go's exact behaviour. */
export const GO_MAX_DEPTH = 10000;

const SHORT_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** The scanner's quoteChar: Go reads bytes, so a non-ASCII character shows as its first UTF-8 byte. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  let code = c.codePointAt(0)!;
  if (code >= 0x80) code = Buffer.from(c, 'utf8')[0]!;
  const ch = String.fromCharCode(code);
  if (SHORT_ESCAPES[ch]) return `'${SHORT_ESCAPES[ch]}'`;
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  if (code >= 0x80 && code < 0xa0) return `'\\u${code.toString(16).padStart(4, '0')}'`;
  if (code === 0xad) return "'\\u00ad'";
  return `'${ch}'`;
}

type Frame =
  | { kind: 'array'; items: Value[] }
  | { kind: 'object'; obj: ReturnType<typeof makeObject>; key?: string };

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * json.Unmarshal into a Rego value. `maxDepth` (default: none) bounds nesting as Go's scanner does
 * (`exceeded max depth`); OPA's json.unmarshal has no bound of its own beyond the engine's limits.
 */
export function parseJSON(text: string, opts: { maxDepth?: number } = {}): Value {
  const maxDepth = opts.maxDepth ?? Infinity;
  let i = 0;
  const n = text.length;
  const skip = (): void => {
    for (let c = text[i]; c === ' ' || c === '\t' || c === '\n' || c === '\r'; c = text[++i]);
  };
  const fail = (ctx: string): never => {
    if (i >= n) throw new JSONSyntaxError('unexpected end of JSON input');
    throw new JSONSyntaxError(`invalid character ${quoteChar(String.fromCodePoint(text.codePointAt(i)!))} ${ctx}`);
  };
  const stack: Frame[] = [];
  let result: Value | undefined;

  const readString = (): string => {
    // text[i] === '"'
    let j = i + 1;
    let out = '';
    let start = j;
    for (;;) {
      if (j >= n) { i = j; fail('in string literal'); }
      const c = text[j];
      if (c === '"') break;
      if (c === '\\') {
        out += text.slice(start, j);
        const e = text[j + 1];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            for (let k = 2; k < 6; k++) {
              if (!/[0-9a-fA-F]/.test(text[j + k] ?? '')) { i = j + k; fail('in \\u hexadecimal character escape'); }
            }
            out += String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16));
            j += 4;
            break;
          }
          default:
            i = j + 1;
            fail('in string escape code');
        }
        j += 2;
        start = j;
        continue;
      }
      if (c < ' ') { i = j; fail('in string literal'); }
      j++;
    }
    out += text.slice(start, j);
    i = j + 1;
    return out;
  };

  const readLiteral = <T extends Value>(lit: string, v: T): T => {
    for (let k = 0; k < lit.length; k++, i++) {
      if (text[i] !== lit[k]) fail(`in literal ${lit} (expecting ${quoteChar(lit[k]!)})`);
    }
    return v;
  };

  // the scanner's number states: after '-' a digit must follow, after '.' a digit, after 'e' / 'e±' a digit
  const readNumber = (): Value => {
    const start = i;
    if (text[i] === '-') { i++; if (!isDigit(text[i])) fail('in numeric literal'); }
    if (text[i] === '0') i++;
    else while (isDigit(text[i])) i++;
    if (text[i] === '.') {
      i++;
      if (!isDigit(text[i])) fail('after decimal point in numeric literal');
      while (isDigit(text[i])) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(text[i])) fail('in exponent of numeric literal');
      while (isDigit(text[i])) i++;
    }
    const lit = text.slice(start, i);
    const num = numFromString(lit);
    if (num === undefined) throw new JSONSyntaxError(`number ${lit} is out of range`);
    return num;
  };

  const readScalar = (): Value => {
    const c = text[i];
    if (c === '"') return readString();
    if (c === 't') return readLiteral('true', true);
    if (c === 'f') return readLiteral('false', false);
    if (c === 'n') return readLiteral('null', null);
    if (c === '-' || isDigit(c)) return readNumber();
    return fail('looking for beginning of value');
  };

  const emit = (v: Value): void => {
    const top = stack[stack.length - 1];
    if (!top) { result = v; return; }
    if (top.kind === 'array') top.items.push(v);
    else { top.obj.set(top.key!, v); top.key = undefined; }
  };

  const push = (f: Frame): void => {
    if (stack.length >= maxDepth) throw new JSONSyntaxError('exceeded max depth');
    stack.push(f);
  };

  const readKey = (f: Frame & { kind: 'object' }): void => {
    skip();
    if (text[i] !== '"') fail('looking for beginning of object key string');
    f.key = readString();
    skip();
    if (text[i] !== ':') fail('after object key');
    i++;
  };

  // value position
  for (;;) {
    skip();
    if (i >= n) fail('');
    const c = text[i];
    if (c === '[') {
      i++;
      skip();
      if (text[i] === ']') { i++; emit([]); }
      else { push({ kind: 'array', items: [] }); continue; }
    } else if (c === '{') {
      i++;
      skip();
      if (text[i] === '}') { i++; emit(makeObject([])); }
      else {
        const f: Frame = { kind: 'object', obj: makeObject([]) };
        push(f);
        readKey(f);
        continue;
      }
    } else emit(readScalar());
    // after a value: close containers or move to the next element
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) break;
      skip();
      const d = text[i];
      if (top.kind === 'array') {
        if (d === ',') { i++; break; }
        if (d === ']') { i++; stack.pop(); emit(top.items); continue; }
        fail('after array element');
      } else {
        if (d === ',') { i++; readKey(top); break; }
        if (d === '}') { i++; stack.pop(); emit(top.obj); continue; }
        fail('after object key:value pair');
      }
    }
    if (stack.length === 0) break;
  }
  skip();
  if (i < n) fail('after top-level value');
  return result!;
}

export function isValidJSON(text: string, opts: { maxDepth?: number } = {}): boolean {
  try {
    parseJSON(text, opts);
    return true;
  } catch {
    return false;
  }
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/;
const HTML_UNSAFE_G = /[<>&\u2028\u2029]/g;

/** A JSON string literal as Go's encoding/json writes it (HTML-safe). */
export function goJSONString(s: string): string {
  const q = JSON.stringify(s);
  if (!HTML_UNSAFE.test(q)) return q;
  return q.replace(HTML_UNSAFE_G, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** json.Marshal (indent undefined) or json.MarshalIndent(prefix, indent). */
export function marshal(v: Value, indent?: string, prefix = ''): string {
  const out: string[] = [];
  write(v, out, indent, prefix, 0);
  return out.join('');
}

function newline(out: string[], indent: string | undefined, prefix: string, depth: number): void {
  if (indent !== undefined) out.push('\n', prefix, indent.repeat(depth));
}

// Rego orders string keys by UTF-16 code unit, Go by UTF-8 byte: the two differ only around surrogates
const NEEDS_BYTE_ORDER = /[\ud800-\udfff]/;
const byteOrder = (a: [string, Value], b: [string, Value]): number => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));

function objectEntries(v: ReturnType<typeof makeObject>): [string, Value][] {
  const entries = v.entries() as [Value, Value][];
  if (entries.every(([k]) => typeof k === 'string' && !NEEDS_BYTE_ORDER.test(k))) return entries as [string, Value][];
  // other keys are marshalled to text and re-sorted
  return entries.map(([k, x]) => [typeof k === 'string' ? k : marshal(k), x] as [string, Value]).sort(byteOrder);
}

function write(v: Value, out: string[], indent: string | undefined, prefix: string, depth: number): void {
  if (v === null) { out.push('null'); return; }
  if (typeof v === 'string') { out.push(goJSONString(v)); return; }
  if (typeof v === 'boolean') { out.push(v ? 'true' : 'false'); return; }
  if (isNum(v)) { out.push(numToString(v)); return; }
  if (isArray(v) || isSet(v)) {
    const xs = isArray(v) ? v : v.values();
    if (xs.length === 0) { out.push('[]'); return; }
    out.push('[');
    xs.forEach((x, i) => {
      if (i > 0) out.push(',');
      newline(out, indent, prefix, depth + 1);
      write(x, out, indent, prefix, depth + 1);
    });
    newline(out, indent, prefix, depth);
    out.push(']');
    return;
  }
  if (isObject(v)) {
    if (v.size === 0) { out.push('{}'); return; }
    out.push('{');
    objectEntries(v).forEach(([k, x], i) => {
      if (i > 0) out.push(',');
      newline(out, indent, prefix, depth + 1);
      out.push(goJSONString(k), indent === undefined ? ':' : ': ');
      write(x, out, indent, prefix, depth + 1);
    });
    newline(out, indent, prefix, depth);
    out.push('}');
    return;
  }
  throw new TypeError('unknown value');
}
