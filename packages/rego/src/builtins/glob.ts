/**
 * glob.match / glob.quote_meta with the syntax of github.com/gobwas/glob, which OPA uses:
 * `*` (any run of non-delimiters), `**` (any run), `?` (one non-delimiter), `[abc]`, `[!abc]`,
 * `[a-z]`, `[!a-z]`, `{alt1,alt2}` and `\` escapes. Patterns compile to an anchored JS RegExp,
 * cached process-wide: glob.match sits on the gateway's hot path.
 */
import { isArray, type Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { elementErr, str, typeErr } from './operands.js';

const CACHE_MAX = 1000;

function escapeRe(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** Escape for a rune inside a JS character class (u-mode). */
function escapeClass(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

class GlobParser {
  private i = 0;
  private readonly rs: string[];

  constructor(pattern: string, private readonly notDelim: string) {
    this.rs = Array.from(pattern);
  }

  parse(): string {
    const out = this.seq(false);
    return `^${out}$`;
  }

  private fail(msg: string): never {
    throw new BuiltinError(msg);
  }

  /** A sequence of items; inside `{...}` it stops before `,` or `}`. */
  private seq(inTerms: boolean): string {
    let out = '';
    while (this.i < this.rs.length) {
      const c = this.rs[this.i];
      if (inTerms && (c === ',' || c === '}')) break;
      switch (c) {
        case '{': {
          this.i++;
          const alts: string[] = [];
          for (;;) {
            alts.push(this.seq(true));
            if (this.i >= this.rs.length) this.fail('unexpected end of input');
            const d = this.rs[this.i++];
            if (d === '}') break;
          }
          out += `(?:${alts.join('|')})`;
          break;
        }
        case '[':
          this.i++;
          out += this.range();
          break;
        case '?':
          this.i++;
          out += this.notDelim;
          break;
        case '*':
          this.i++;
          if (this.rs[this.i] === '*') {
            // a run of stars of length >= 2 is a super-asterisk
            while (this.rs[this.i] === '*') this.i++;
            out += '[^]*';
          } else out += `${this.notDelim}*`;
          break;
        default:
          out += this.text(inTerms);
      }
    }
    return out;
  }

  private text(inTerms: boolean): string {
    let out = '';
    const breakers = inTerms ? '?*[{},' : '?*[{';
    while (this.i < this.rs.length) {
      let c = this.rs[this.i];
      if (c === '\\') {
        this.i++;
        if (this.i >= this.rs.length) break;
        c = this.rs[this.i];
      } else if (breakers.includes(c)) break;
      out += escapeRe(c);
      this.i++;
    }
    return out;
  }

  /** After `[`: either one range `a-z` or a list of runes, optionally negated by `!`. */
  private range(): string {
    let not = false;
    if (this.rs[this.i] === '!') { not = true; this.i++; }
    const neg = not ? '^' : '';
    if (this.rs[this.i + 1] === '-' && this.i + 2 < this.rs.length) {
      const lo = this.rs[this.i], hi = this.rs[this.i + 2];
      this.i += 3;
      if (this.rs[this.i] !== ']') this.fail('expected close range character');
      this.i++;
      if (lo.codePointAt(0)! > hi.codePointAt(0)!) this.fail('hi character should be greater than lo character');
      return `[${neg}${escapeClass(lo)}-${escapeClass(hi)}]`;
    }
    let chars = '';
    for (;;) {
      if (this.i >= this.rs.length) this.fail('unexpected end of input');
      let c = this.rs[this.i++];
      if (c === ']') break;
      if (c === '\\') {
        if (this.i >= this.rs.length) this.fail('unexpected end of input');
        c = this.rs[this.i++];
      }
      chars += escapeClass(c);
    }
    if (chars === '') return not ? '[^]' : '[]';
    return `[${neg}${chars}]`;
  }
}

/** Compiled globs by delimiter set, then by pattern (no string building on the hot path). */
const byDelims = new Map<string, Map<string, RegExp>>();
let cached = 0;

export function compileGlob(pattern: string, delimiters: string[]): RegExp {
  const dkey = delimiters.length === 1 ? delimiters[0] : delimiters.join('\u0000');
  let table = byDelims.get(dkey);
  let re = table?.get(pattern);
  if (re) return re;
  const notDelim = delimiters.length === 0 ? '[^]' : `[^${delimiters.map(escapeClass).join('')}]`;
  re = new RegExp(new GlobParser(pattern, notDelim).parse(), 'su');
  if (cached >= CACHE_MAX) { byDelims.clear(); cached = 0; table = undefined; }
  if (!table) { table = new Map(); byDelims.set(dkey, table); }
  table.set(pattern, re);
  cached++;
  return re;
}

/** gobwas/glob's QuoteMeta: escapes `* ? \ [ ] { }`. */
export function globQuoteMeta(s: string): string {
  return s.replace(/[*?\\[\]{}]/g, '\\$&');
}

const NO_DELIMITERS: string[] = [];
const DOT: string[] = ['.'];

function delimitersOperand(v: Value): string[] {
  if (v === null) return NO_DELIMITERS;
  if (!isArray(v)) throw typeErr(2, v, 'array', 'null');
  if (v.length === 0) return DOT;
  for (const d of v) {
    if (typeof d !== 'string') throw elementErr(2, v, d, 'string');
    if (d.length !== 1 && Array.from(d).length !== 1) throw elementErr(2, v, d, 'rune');
  }
  return v as string[];
}

export const builtins: BuiltinTable = {
  'glob.match': {
    name: 'glob.match',
    args: ['string', 'array[string]|null', 'string'],
    result: 'boolean',
    fn: ([p, d, m]) => {
      const pattern = str(p, 1);
      const delims = delimitersOperand(d);
      const match = str(m, 3);
      return compileGlob(pattern, delims).test(match);
    },
  },
  'glob.quote_meta': {
    name: 'glob.quote_meta',
    args: ['string'],
    result: 'string',
    fn: ([p]) => globQuoteMeta(str(p, 1)),
  },
};
