/**
 * JSON text ⇄ Rego values with Go's encoding/json behavior: numbers parsed exactly, keys
 * sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped, MarshalIndent layout with prefix/indent.
 * The parser is iterative, so hostile nesting depth cannot overflow the stack.
 */
import { numFromString, numToString } from '../num.js';
import { isArray, isNum, isObject, isSet, makeObject, type Value } from '../value.js';

export class JSONSyntaxError extends Error {}

const WS = new Set([' ', '\t', '\n', '\r']);

function describe(c: string | undefined): string {
  if (c === undefined) return 'unexpected end of JSON input';
  return `invalid character ${goQuoteChar(c)}`;
}

function goQuoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '\n') return "'\\n'";
  if (c === '\r') return "'\\r'";
  if (c === '\t') return "'\\t'";
  return `'${c}'`;
}

type Frame =
  | { kind: 'array'; items: Value[] }
  | { kind: 'object'; obj: ReturnType<typeof makeObject>; key?: string };

/** Parses one JSON document exactly (big integers and long decimals keep every digit). */
export function parseJSON(text: string): Value {
  let i = 0;
  const n = text.length;
  const skip = (): void => {
    while (i < n && WS.has(text[i])) i++;
  };
  const fail = (ctx: string): never => {
    if (i >= n) throw new JSONSyntaxError('unexpected end of JSON input');
    throw new JSONSyntaxError(`${describe(text[i])} ${ctx}`);
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
            const h = text.slice(j + 2, j + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) { i = j + 2; fail('in \\u hexadecimal character escape'); }
            out += String.fromCharCode(parseInt(h, 16));
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

  const readScalar = (): Value => {
    const c = text[i];
    if (c === '"') return readString();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 4096));
    if (!m || m[0] === '' || m[0] === '-') fail('looking for beginning of value');
    const num = numFromString(m![0]);
    if (num === undefined) throw new JSONSyntaxError(`number ${m![0]} is out of range`);
    i += m![0].length;
    return num;
  };

  const emit = (v: Value): void => {
    const top = stack[stack.length - 1];
    if (!top) { result = v; return; }
    if (top.kind === 'array') top.items.push(v);
    else { top.obj.set(top.key!, v); top.key = undefined; }
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
      else { stack.push({ kind: 'array', items: [] }); continue; }
    } else if (c === '{') {
      i++;
      skip();
      if (text[i] === '}') { i++; emit(makeObject([])); }
      else {
        const f: Frame = { kind: 'object', obj: makeObject([]) };
        if (text[i] !== '"') fail('looking for beginning of object key string');
        f.key = readString();
        skip();
        if (text[i] !== ':') fail('after object key');
        i++;
        stack.push(f);
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
        if (d === ',') {
          i++;
          skip();
          if (text[i] !== '"') fail('looking for beginning of object key string');
          top.key = readString();
          skip();
          if (text[i] !== ':') fail('after object key');
          i++;
          break;
        }
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

export function isValidJSON(text: string): boolean {
  try {
    parseJSON(text);
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

/** Go json.Marshal (indent undefined) or json.MarshalIndent(prefix, indent). */
export function marshal(v: Value, indent?: string, prefix = ''): string {
  const out: string[] = [];
  write(v, out, indent, prefix, 0);
  return out.join('');
}

function newline(out: string[], indent: string | undefined, prefix: string, depth: number): void {
  if (indent !== undefined) out.push('\n', prefix, indent.repeat(depth));
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
    let entries = v.entries() as [Value, Value][];
    // string keys are already in Go's order; other keys are marshalled to text and re-sorted
    if (!entries.every(([k]) => typeof k === 'string')) {
      entries = entries.map(([k, x]) => [typeof k === 'string' ? k : marshal(k), x] as [Value, Value])
        .sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : (a[0] as string) > (b[0] as string) ? 1 : 0));
    }
    out.push('{');
    entries.forEach(([k, x], i) => {
      if (i > 0) out.push(',');
      newline(out, indent, prefix, depth + 1);
      out.push(goJSONString(k as string), indent === undefined ? ':' : ': ');
      write(x, out, indent, prefix, depth + 1);
    });
    newline(out, indent, prefix, depth);
    out.push('}');
    return;
  }
  throw new TypeError('unknown value');
}
