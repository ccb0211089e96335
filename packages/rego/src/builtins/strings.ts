/**
 * String builtins (OPA topdown/strings.go). Go strings are UTF-8 and OPA indexes them by
 * rune, so positions and lengths here count code points, not UTF-16 units.
 */
import { isInteger, toBigInt, toFloat, toSafeInt, type Num } from '../num.js';
import { isArray, isSet, type Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { elementErr, int, num, obj, operandErr, str, strings as strList, typeErr } from './operands.js';
import { sprintf } from './go/sprintf.js';

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

function runes(s: string): string[] {
  return Array.from(s);
}

export function runeCount(s: string): number {
  if (ASCII.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Go's simple per-rune case mapping. JS applies full mappings: an upper-case mapping to several
 * runes (ß → SS) leaves the rune as is, and the one such lower-case mapping (İ → i̇) keeps its
 * first rune, as unicode.ToLower does.
 */
function mapCase(s: string, upper: boolean): string {
  if (ASCII.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    if (runeCount(m) === 1) out += m;
    else out += upper ? ch : String.fromCodePoint(m.codePointAt(0)!);
  }
  return out;
}

/** Rune offsets of every occurrence of `needle` in `hay` (overlapping, like OPA's loop). */
function runeIndexes(hay: string, needle: string): number[] {
  const out: number[] = [];
  let from = 0;
  for (;;) {
    const i = hay.indexOf(needle, from);
    if (i < 0) break;
    out.push(i);
    from = i + 1;
  }
  if (ASCII.test(hay)) return out;
  // convert UTF-16 offsets to rune offsets
  return out.map((i) => runeCount(hay.slice(0, i)));
}

/** Go's strings.Trim family: cut runes contained in `cutset`. */
function trimSet(s: string, cutset: string, left: boolean, right: boolean): string {
  if (s === '' || cutset === '') return s;
  const cut = new Set(runes(cutset));
  const rs = runes(s);
  let a = 0, b = rs.length;
  if (left) while (a < b && cut.has(rs[a])) a++;
  if (right) while (b > a && cut.has(rs[b - 1])) b--;
  return a === 0 && b === rs.length ? s : rs.slice(a, b).join('');
}

// Go's unicode.IsSpace
const SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const TRIM_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, 'g');

/**
 * Go's strings.NewReplacer(old1, new1, ...).Replace(s): at each position the first pair in
 * argument order whose old string matches wins; matches never overlap; an empty old string
 * matches at every rune boundary.
 */
export function replaceAll(s: string, pairs: [string, string][]): string {
  if (pairs.length === 1 && pairs[0][0] !== '') return s.split(pairs[0][0]).join(pairs[0][1]);
  let out = '';
  let i = 0;
  let prevEmpty = false;
  while (i <= s.length) {
    let hit: [string, string] | undefined;
    for (const pr of pairs) {
      if (pr[0] === '' ? !prevEmpty : s.startsWith(pr[0], i)) { hit = pr; break; }
    }
    if (hit) {
      out += hit[1];
      i += hit[0].length;
      prevEmpty = hit[0] === '';
      continue;
    }
    prevEmpty = false;
    if (i >= s.length) break;
    const w = s.codePointAt(i)! > 0xffff ? 2 : 1;
    out += s.slice(i, i + w);
    i += w;
  }
  return out;
}

function formatInt(n: Num, base: Num): string {
  const b = toSafeInt(base);
  if (b !== 2 && b !== 8 && b !== 10 && b !== 16) throw operandErr(2, 'must be one of {2, 8, 10, 16}');
  // OPA truncates toward zero through a big.Float
  const i = isInteger(n) ? toBigInt(n) : BigInt(Math.trunc(toFloat(n)));
  return i.toString(b);
}

function prefixMatchOperand(v: Value, pos: number): string[] {
  if (typeof v === 'string') return [v];
  if (isArray(v) || isSet(v)) return strList(v, pos);
  throw typeErr(pos, v, 'string', 'set', 'array');
}

function anyStartsWithAny(strs: string[], prefixes: string[]): boolean {
  for (const s of strs) for (const p of prefixes) if (s.startsWith(p)) return true;
  return false;
}

function reverseRunes(s: string): string {
  return runes(s).reverse().join('');
}

export const builtins: BuiltinTable = {
  concat: {
    name: 'concat',
    args: ['string', 'set[string]|array[string]'],
    result: 'string',
    fn: ([d, c]) => {
      const delim = str(d, 1);
      let items: Value[];
      if (isArray(c)) items = c;
      else if (isSet(c)) items = c.values();
      else throw typeErr(2, c, 'set', 'array');
      for (const x of items) if (typeof x !== 'string') throw elementErr(2, c, x, 'string');
      return (items as string[]).join(delim);
    },
  },
  format_int: {
    name: 'format_int',
    args: ['number', 'number'],
    result: 'string',
    fn: ([n, b]) => formatInt(num(n, 1), num(b, 2)),
  },
  indexof: {
    name: 'indexof',
    args: ['string', 'string'],
    result: 'number',
    fn: ([h, n]) => {
      const hay = str(h, 1), needle = str(n, 2);
      if (needle === '') throw new BuiltinError('empty search character');
      const i = hay.indexOf(needle);
      if (i < 0) return -1;
      return ASCII.test(hay) ? i : runeCount(hay.slice(0, i));
    },
  },
  indexof_n: {
    name: 'indexof_n',
    args: ['string', 'string'],
    result: 'array[number]',
    fn: ([h, n]) => {
      const hay = str(h, 1), needle = str(n, 2);
      if (needle === '') throw new BuiltinError('empty search character');
      return runeIndexes(hay, needle);
    },
  },
  substring: {
    name: 'substring',
    args: ['string', 'number', 'number'],
    result: 'string',
    fn: ([s, o, l]) => {
      const base = str(s, 1);
      const start = int(o, 2), length = int(l, 3);
      if (start < 0) throw new BuiltinError('negative offset');
      if (ASCII.test(base)) {
        if (start >= base.length) return '';
        return length < 0 ? base.slice(start) : base.slice(start, Math.min(base.length, start + length));
      }
      const rs = runes(base);
      if (start >= rs.length) return '';
      return (length < 0 ? rs.slice(start) : rs.slice(start, Math.min(rs.length, start + length))).join('');
    },
  },
  contains: {
    name: 'contains',
    args: ['string', 'string'],
    result: 'boolean',
    fn: ([s, sub]) => str(s, 1).includes(str(sub, 2)),
  },
  'strings.count': {
    name: 'strings.count',
    args: ['string', 'string'],
    result: 'number',
    fn: ([s, sub]) => {
      const hay = str(s, 1), needle = str(sub, 2);
      if (needle === '') return runeCount(hay) + 1;
      return hay.split(needle).length - 1;
    },
  },
  startswith: {
    name: 'startswith',
    args: ['string', 'string'],
    result: 'boolean',
    fn: ([s, p]) => str(s, 1).startsWith(str(p, 2)),
  },
  endswith: {
    name: 'endswith',
    args: ['string', 'string'],
    result: 'boolean',
    fn: ([s, p]) => str(s, 1).endsWith(str(p, 2)),
  },
  lower: {
    name: 'lower',
    args: ['string'],
    result: 'string',
    fn: ([s]) => mapCase(str(s, 1), false),
  },
  upper: {
    name: 'upper',
    args: ['string'],
    result: 'string',
    fn: ([s]) => mapCase(str(s, 1), true),
  },
  split: {
    name: 'split',
    args: ['string', 'string'],
    result: 'array[string]',
    fn: ([s, d]) => {
      const text = str(s, 1), delim = str(d, 2);
      if (delim === '') return runes(text);
      return text.split(delim);
    },
  },
  replace: {
    name: 'replace',
    args: ['string', 'string', 'string'],
    result: 'string',
    fn: ([s, o, n]) => replaceAll(str(s, 1), [[str(o, 2), str(n, 3)]]),
  },
  'strings.replace_n': {
    name: 'strings.replace_n',
    args: ['object[string:string]', 'string'],
    result: 'string',
    fn: ([p, s]) => {
      const patterns = obj(p, 1);
      const value = str(s, 2);
      const pairs: [string, string][] = [];
      for (const [k, v] of patterns.entries()) {
        if (typeof k !== 'string') throw operandErr(1, 'non-string key found in pattern object');
        if (typeof v !== 'string') throw operandErr(1, 'non-string value found in pattern object');
        pairs.push([k, v]);
      }
      return pairs.length === 0 ? value : replaceAll(value, pairs);
    },
  },
  trim: {
    name: 'trim',
    args: ['string', 'string'],
    result: 'string',
    fn: ([s, c]) => trimSet(str(s, 1), str(c, 2), true, true),
  },
  trim_left: {
    name: 'trim_left',
    args: ['string', 'string'],
    result: 'string',
    fn: ([s, c]) => trimSet(str(s, 1), str(c, 2), true, false),
  },
  trim_right: {
    name: 'trim_right',
    args: ['string', 'string'],
    result: 'string',
    fn: ([s, c]) => trimSet(str(s, 1), str(c, 2), false, true),
  },
  trim_prefix: {
    name: 'trim_prefix',
    args: ['string', 'string'],
    result: 'string',
    fn: ([s, p]) => {
      const v = str(s, 1), pre = str(p, 2);
      return v.startsWith(pre) ? v.slice(pre.length) : v;
    },
  },
  trim_suffix: {
    name: 'trim_suffix',
    args: ['string', 'string'],
    result: 'string',
    fn: ([s, p]) => {
      const v = str(s, 1), suf = str(p, 2);
      return suf !== '' && v.endsWith(suf) ? v.slice(0, v.length - suf.length) : v;
    },
  },
  trim_space: {
    name: 'trim_space',
    args: ['string'],
    result: 'string',
    fn: ([s]) => str(s, 1).replace(TRIM_SPACE, ''),
  },
  sprintf: {
    name: 'sprintf',
    args: ['string', 'array[any]'],
    result: 'string',
    fn: ([f, vs]) => {
      const format = str(f, 1);
      if (!isArray(vs)) throw typeErr(2, vs, 'array');
      return sprintf(format, vs);
    },
  },
  'strings.reverse': {
    name: 'strings.reverse',
    args: ['string'],
    result: 'string',
    fn: ([s]) => reverseRunes(str(s, 1)),
  },
  'strings.any_prefix_match': {
    name: 'strings.any_prefix_match',
    args: ['string|set[string]|array[string]', 'string|set[string]|array[string]'],
    result: 'boolean',
    fn: ([a, b]) => anyStartsWithAny(prefixMatchOperand(a, 1), prefixMatchOperand(b, 2)),
  },
  'strings.any_suffix_match': {
    name: 'strings.any_suffix_match',
    args: ['string|set[string]|array[string]', 'string|set[string]|array[string]'],
    result: 'boolean',
    fn: ([a, b]) => {
      const strs = prefixMatchOperand(a, 1).map(reverseRunes);
      const sufs = prefixMatchOperand(b, 2).map(reverseRunes);
      return anyStartsWithAny(strs, sufs);
    },
  },
};
