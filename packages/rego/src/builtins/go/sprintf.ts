/**
 * Go's fmt.Sprintf, as OPA's sprintf uses it. OPA hands Go one argument per array element:
 * an int (integers within int64), a *big.Int (larger integers), a float64 (other numbers),
 * a string, or, for any other value, its Rego text. The formatting below follows
 * fmt's rules for those four Go types, including its "%!verb(type=value)" error notes.
 */
import { BigDec, isInteger, toBigInt, toFloat, type Num } from '../../num.js';
import { isNum, valueToString, type Value } from '../../value.js';

type GoArg =
  | { kind: 'int'; v: bigint }
  | { kind: 'bigint'; v: bigint }
  | { kind: 'float'; v: number }
  | { kind: 'string'; v: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function toGoArg(v: Value): GoArg {
  if (typeof v === 'string') return { kind: 'string', v };
  if (isNum(v)) return numArg(v);
  return { kind: 'string', v: valueToString(v) };
}

function numArg(n: Num): GoArg {
  if (isInteger(n)) {
    const b = toBigInt(n);
    if (b >= INT64_MIN && b <= INT64_MAX) return { kind: 'int', v: b };
    // A literal like 2e308 overflows float64 and OPA prints it as written; a bigint that big
    // can only have come from such a literal, so print it in that compact form.
    const f = Number(b);
    if (!Number.isFinite(f)) return { kind: 'string', v: compactExp(b) };
    return { kind: 'bigint', v: b };
  }
  if (n instanceof BigDec) return { kind: 'float', v: toFloat(n) };
  return { kind: 'float', v: n as number };
}

function compactExp(b: bigint): string {
  const neg = b < 0n;
  let digits = (neg ? -b : b).toString();
  let exp = 0;
  while (digits.length > 1 && digits.endsWith('0')) { digits = digits.slice(0, -1); exp++; }
  const s = exp > 0 ? `${digits}e${exp}` : digits;
  return neg ? `-${s}` : s;
}

/** Go's fmt rejects widths and precisions beyond 1e6 (%!(BADWIDTH), %!(BADPREC)). */
const MAX_WIDTH = 1e6;

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

export function sprintf(format: string, values: Value[]): string {
  const args = values.map(toGoArg);
  let out = '';
  let argi = 0;
  let i = 0;
  const n = format.length;
  scan: while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) { out += format.slice(i); break; }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    flags: for (; i < n; i++) {
      switch (format[i]) {
        case '-': spec.minus = true; spec.zero = false; break;
        case '+': spec.plus = true; break;
        case '#': spec.sharp = true; break;
        case ' ': spec.space = true; break;
        case '0': spec.zero = !spec.minus; break;
        default: break flags;
      }
    }
    // width
    if (format[i] === '*') {
      i++;
      const a = args[argi++];
      if (a && a.kind === 'int' && a.v <= BigInt(MAX_WIDTH) && a.v >= -BigInt(MAX_WIDTH)) {
        let w = Number(a.v);
        if (w < 0) { spec.minus = true; spec.zero = false; w = -w; }
        spec.width = w;
      } else out += '%!(BADWIDTH)';
    } else {
      const w = digitsAt(format, i);
      if (w) {
        i += w.length;
        // like Go, a too-large number swallows the rest of the format
        if (Number(w) > MAX_WIDTH) { out += '%!(NOVERB)'; break scan; }
        spec.width = Number(w);
      }
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        if (a && a.kind === 'int' && a.v >= 0n && a.v <= BigInt(MAX_WIDTH)) spec.prec = Number(a.v);
        else out += '%!(BADPREC)';
      } else {
        const p = digitsAt(format, i);
        spec.prec = p ? Number(p) : 0;
        i += p.length;
        if (spec.prec > MAX_WIDTH) { out += '%!(NOVERB)'; break scan; }
      }
    }
    if (i >= n) { out += '%!(NOVERB)'; break; }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') { out += '%'; continue; }
    if (argi >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    out += formatArg(args[argi++], verb, spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args.slice(argi).map((a) => `${goTypeName(a)}=${plainValue(a)}`).join(', ')})`;
  }
  return out;
}

function digitsAt(s: string, i: number): string {
  let j = i;
  while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  return s.slice(i, j);
}

function goTypeName(a: GoArg): string {
  switch (a.kind) {
    case 'int': return 'int';
    case 'bigint': return '*big.Int';
    case 'float': return 'float64';
    case 'string': return 'string';
  }
}

function plainValue(a: GoArg): string {
  switch (a.kind) {
    case 'int': case 'bigint': return a.v.toString();
    case 'float': return formatFloat(a.v, 'g', undefined, plain());
    case 'string': return a.v;
  }
}

function plain(): Spec {
  return { minus: false, plus: false, sharp: false, space: false, zero: false };
}

function badVerb(a: GoArg, verb: string): string {
  if (a.kind === 'bigint') return `%!${verb}(big.Int=${a.v.toString()})`;
  return `%!${verb}(${goTypeName(a)}=${plainValue(a)})`;
}

function formatArg(a: GoArg, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(a), spec, false);
  if (verb === 'v' && spec.sharp && a.kind === 'string') return pad(goQuote(a.v), spec, false);
  switch (a.kind) {
    case 'int':
      if ('bdoOxXcqUv'.includes(verb)) return pad(formatInteger(a.v, verb, spec), spec, true);
      return badVerb(a, verb);
    case 'bigint':
      if ('bdoOxXsv'.includes(verb)) return pad(formatInteger(a.v, verb === 's' || verb === 'v' ? 'd' : verb, spec), spec, true);
      return badVerb(a, verb);
    case 'float':
      if ('eEfFgGv'.includes(verb)) return pad(formatFloat(a.v, verb, spec.prec, spec), spec, Number.isFinite(a.v));
      return badVerb(a, verb);
    case 'string':
      if (verb === 's' || verb === 'v') return pad(spec.prec !== undefined ? truncRunes(a.v, spec.prec) : a.v, spec, false);
      if (verb === 'q') return pad(goQuote(spec.prec !== undefined ? truncRunes(a.v, spec.prec) : a.v), spec, false);
      if (verb === 'x' || verb === 'X') return pad(hexString(a.v, verb === 'X', spec), spec, false);
      return badVerb(a, verb);
  }
}

function truncRunes(s: string, n: number): string {
  const runes = Array.from(s);
  return runes.length <= n ? s : runes.slice(0, n).join('');
}

/** Pads to the width; zero padding goes after the sign for numbers. */
function pad(s: string, spec: Spec, numeric: boolean): string {
  const w = spec.width ?? 0;
  const len = Array.from(s).length;
  if (len >= w) return s;
  const fill = w - len;
  if (spec.minus) return s + ' '.repeat(fill);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  if (spec.zero && !numeric) return '0'.repeat(fill) + s;
  return ' '.repeat(fill) + s;
}

function formatInteger(v: bigint, verb: string, spec: Spec): string {
  const neg = v < 0n;
  const mag = neg ? -v : v;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'c': return String.fromCodePoint(Number(mag) <= 0x10ffff ? Number(mag) : 0xfffd);
    case 'q': return `'${String.fromCodePoint(Number(mag) <= 0x10ffff ? Number(mag) : 0xfffd)}'`;
    case 'U': {
      const h = mag.toString(16).toUpperCase().padStart(4, '0');
      return `U+${h}`;
    }
    case 'b': digits = mag.toString(2); if (spec.sharp) prefix = '0b'; break;
    case 'o': digits = mag.toString(8); if (spec.sharp) prefix = '0'; break;
    case 'O': digits = mag.toString(8); prefix = '0o'; break;
    case 'x': digits = mag.toString(16); if (spec.sharp) prefix = '0x'; break;
    case 'X': digits = mag.toString(16).toUpperCase(); if (spec.sharp) prefix = '0X'; break;
    default: digits = mag.toString(10);
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && mag === 0n) digits = '';
    else digits = digits.padStart(spec.prec, '0');
  } else if (spec.zero && !spec.minus && spec.width !== undefined) {
    // zero padding is applied here so that it goes between the sign/prefix and the digits
    const signLen = neg || spec.plus || spec.space ? 1 : 0;
    digits = digits.padStart(spec.width - signLen - prefix.length, '0');
  }
  if (prefix === '0' && digits.startsWith('0')) prefix = '';
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return sign + prefix + digits;
}

/** Decimal digits and decimal-point position of |x|, shortest or rounded to `sig` significant digits. */
function decimalDigits(x: number, sig?: number): { d: string; dp: number } {
  if (x === 0) return { d: '0', dp: 1 };
  const e = sig === undefined ? x.toExponential() : x.toExponential(Math.max(sig - 1, 0));
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(e)!;
  let d = m[1] + (m[2] ?? '');
  d = d.replace(/0+$/, '') || '0';
  return { d, dp: Number(m[3]) + 1 };
}

function fmtE(d: string, dp: number, prec: number, upper: boolean): string {
  let digits = d;
  if (digits.length < prec + 1) digits = digits.padEnd(prec + 1, '0');
  let s = digits[0];
  if (prec > 0) s += '.' + digits.slice(1, prec + 1);
  const exp = d === '0' ? 0 : dp - 1;
  const ae = Math.abs(exp);
  s += (upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + ae;
  return s;
}

function fmtF(d: string, dp: number, prec: number): string {
  let intPart: string;
  let frac: string;
  if (dp <= 0) {
    intPart = '0';
    frac = '0'.repeat(-dp) + d;
  } else if (dp >= d.length) {
    intPart = d + '0'.repeat(dp - d.length);
    frac = '';
  } else {
    intPart = d.slice(0, dp);
    frac = d.slice(dp);
  }
  if (d === '0') intPart = '0';
  frac = frac.padEnd(prec, '0').slice(0, prec);
  return prec > 0 ? `${intPart}.${frac}` : intPart;
}

/** Exact fixed-point text with `prec` decimals (JS toFixed switches to exponent form at 1e21). */
function toFixed(x: number, prec: number): string {
  if (Math.abs(x) < 1e21) return x.toFixed(Math.min(prec, 100)) + (prec > 100 ? '0'.repeat(prec - 100) : '');
  const int = BigInt(x).toString();
  return prec > 0 ? `${int}.${'0'.repeat(prec)}` : int;
}

export function formatFloat(x: number, verb: string, prec: number | undefined, spec: Spec): string {
  let body: string;
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  if (Number.isNaN(x)) body = 'NaN';
  else if (!Number.isFinite(x)) body = 'Inf';
  else {
    switch (verb) {
      case 'e': case 'E': {
        const p = prec ?? 6;
        const { d, dp } = decimalDigits(ax, p + 1);
        body = fmtE(d, dp, p, verb === 'E');
        break;
      }
      case 'f': case 'F':
        body = toFixed(ax, prec ?? 6);
        break;
      default: {
        // %g / %G / %v: shortest digits unless a precision is given
        const shortest = prec === undefined;
        let p = prec ?? -1;
        if (p === 0) p = 1;
        const { d, dp } = shortest ? decimalDigits(ax) : decimalDigits(ax, p);
        let eprec = shortest ? 6 : p;
        if (!shortest && eprec > d.length && d.length >= dp) eprec = d.length;
        const exp = dp - 1;
        const upper = verb === 'G';
        if (exp < -4 || exp >= eprec) {
          const ep = shortest ? d.length - 1 : Math.min(p, d.length) - 1;
          body = fmtE(d, dp, ep, upper);
        } else {
          const fp = shortest ? Math.max(d.length - dp, 0) : Math.max(Math.min(p, d.length) - dp, 0);
          body = fmtF(d, dp, fp);
        }
      }
    }
  }
  const sign = neg && !Number.isNaN(x) ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return sign + body;
}

function hexString(s: string, upper: boolean, spec: Spec): string {
  const bytes = Buffer.from(s, 'utf8');
  let h = bytes.toString('hex');
  if (upper) h = h.toUpperCase();
  if (spec.sharp) h = (upper ? '0X' : '0x') + h;
  return h;
}

/** Go's strconv.Quote: a double-quoted string with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (!/[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(ch)) {
      out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}
