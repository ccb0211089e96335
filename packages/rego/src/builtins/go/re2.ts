/**
 * Go RE2 syntax (regexp/syntax, Perl flags) translated to a JS RegExp with the `u` flag.
 *
 * The translation keeps Go's meaning where JS differs: `.` never matches `\n` only (JS also
 * excludes `\r`, U+2028/9), `\s` `\d` `\w` are ASCII, `^`/`$` follow the `m` flag by
 * lookarounds, inline flags (`(?i)`, `(?s:…)`, `(?U)`) are applied while translating, `\z`,
 * `\A`, `\Q…\E`, octal and `\x{…}` escapes, POSIX classes and `(?P<name>…)` are accepted.
 * What RE2 rejects (lookaround, backreferences, nested repetition, counts above 1000,
 * bad escapes) is rejected with Go's error text.
 */

export class RegexSyntaxError extends Error {
  /** With `expr`, Go's "error parsing regexp: <code>: `<expr>`"; without, `code` is the whole message. */
  constructor(code: string, expr?: string) {
    super(expr === undefined ? code : `error parsing regexp: ${code}: \`${expr}\``);
  }
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

type Range = [number, number];

const MAX_CP = 0x10ffff;
const DIGIT: Range[] = [[0x30, 0x39]];
const SPACE: Range[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];

const POSIX: Record<string, Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

// Unicode general categories JS accepts as \p{X}; anything else is taken as a script name.
const CATEGORIES = new Set([
  'L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'M', 'Mn', 'Mc', 'Me', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd',
  'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'S', 'Sm', 'Sc', 'Sk', 'So', 'Z', 'Zs', 'Zl', 'Zp', 'C', 'Cc', 'Cf',
  'Cs', 'Co', 'Cn',
]);

function normalize(rs: Range[]): Range[] {
  const sorted = [...rs].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function complement(rs: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalize(rs)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

/** Adds the simple case variants of every rune in the ranges (for the `i` flag). */
function foldRanges(rs: Range[]): Range[] {
  const out: Range[] = [...rs];
  for (const [lo, hi] of rs) {
    if (hi - lo > 5000) {
      // wide ranges: fold the ASCII letters, the rest is left as is
      const aLo = Math.max(lo, 0x41), aHi = Math.min(hi, 0x7a);
      for (let c = aLo; c <= aHi; c++) addFold(out, c);
      continue;
    }
    for (let c = lo; c <= hi; c++) addFold(out, c);
  }
  return normalize(out);
}

function addFold(out: Range[], c: number): void {
  const ch = String.fromCodePoint(c);
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
    const cp = v.codePointAt(0)!;
    if (v.length === String.fromCodePoint(cp).length && cp !== c) out.push([cp, cp]);
  }
}

function cpEsc(c: number): string {
  return `\\u{${c.toString(16)}}`;
}

function rangesSource(rs: Range[], props: string[] = [], negated = false): string {
  const body = rs.map(([lo, hi]) => (lo === hi ? cpEsc(lo) : `${cpEsc(lo)}-${cpEsc(hi)}`)).join('') + props.join('');
  if (body === '') return negated ? '[^]' : '[]';
  return `[${negated ? '^' : ''}${body}]`;
}

const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));

export interface Translated {
  source: string;
  flags: string;
  /** number of capture groups */
  groups: number;
  names: (string | undefined)[];
  /**
   * True when a backtracking engine runs this pattern in linear time: no unbounded repetition,
   * or a single one in a pattern anchored at the start of the text. Anything else may
   * backtrack catastrophically on hostile input.
   */
  backtrackSafe: boolean;
  /** False when JS would match differently from Go (captures in repeated groups, (?i) with \p{..}). */
  exact: boolean;
}

export function translateRE2(pattern: string): Translated {
  return new Translator(pattern).run();
}

class Translator {
  private pos = 0;
  private groups = 0;
  private names: (string | undefined)[] = [undefined];
  private readonly src: string;
  private useJsI = false;
  /** unbounded repetitions, counting counted repetitions of groups as unbounded */
  private unbounded = 0;
  /** the JS translation may match differently from Go (only RE2 automata are exact then) */
  private inexact = false;

  constructor(src: string) {
    this.src = src;
  }

  run(): Translated {
    const flags: Flags = { i: false, m: false, s: false, U: false };
    // a leading (?i) that is never switched off again becomes the JS `i` flag (exact Unicode folding)
    const lead = /^\(\?([imsU]+)\)/.exec(this.src);
    if (lead && lead[1].includes('i') && !/\(\?[a-zA-Z]*-[a-zA-Z]*i/.test(this.src)) this.useJsI = true;
    const source = this.alternation(flags, 0);
    if (this.pos < this.src.length) throw new RegexSyntaxError('unexpected )', this.src);
    const anchored = /^(?:\(\?[imsU]*\))*(?:\^|\\A)/.test(this.src) && !/^(?:\(\?[imsU]*m)/.test(this.src) && !source.includes('|');
    const backtrackSafe = this.unbounded === 0 || (this.unbounded === 1 && anchored);
    return { source, flags: this.useJsI ? 'iu' : 'u', groups: this.groups, names: this.names, backtrackSafe, exact: !this.inexact };
  }

  private err(code: string, expr: string): never {
    throw new RegexSyntaxError(code, expr);
  }

  private peek(): string | undefined {
    if (this.pos >= this.src.length) return undefined;
    return String.fromCodePoint(this.src.codePointAt(this.pos)!);
  }

  /** Parses alternatives until `)` (depth > 0) or end; leaves pos at the `)`. */
  private alternation(flags: Flags, depth: number): string {
    const alts: string[] = [];
    let cur = '';
    // each item: translated atom text, whether it can take a repetition
    let lastAtom: { text: string; start: number; repeated: boolean; opStart?: number; captures?: number } | undefined;
    const f = { ...flags };
    while (this.pos < this.src.length) {
      const c = this.peek()!;
      if (c === ')') {
        if (depth === 0) this.err('unexpected )', this.src);
        break;
      }
      if (c === '|') {
        this.pos++;
        alts.push(cur);
        cur = '';
        lastAtom = undefined;
        continue;
      }
      if (c === '*' || c === '+' || c === '?' || (c === '{' && this.repeatAhead())) {
        const opStart = this.pos;
        const op = this.repeatOp();
        if (!lastAtom) this.err('missing argument to repetition operator', this.src.slice(opStart, this.pos));
        if (lastAtom.repeated) this.err('invalid nested repetition operator', this.src.slice(lastAtom.opStart, this.pos));
        const onGroup = this.src[lastAtom.start] === '(';
        const repeats = op !== '?' && !/^\{[01](,1)?\}$/.test(op);
        if (op === '*' || op === '+' || /,\}$/.test(op) || (onGroup && repeats)) this.unbounded++;
        // JS clears captures nested in a repeated group at each iteration, Go keeps the last one set
        if (repeats && (lastAtom.captures ?? 0) > 1) this.inexact = true;
        let lazy = false;
        if (this.peek() === '?') { this.pos++; lazy = true; }
        if (f.U) lazy = !lazy;
        const atomText = lastAtom.text;
        cur = cur.slice(0, cur.length - atomText.length) + `(?:${atomText})${op}${lazy ? '?' : ''}`;
        lastAtom = { text: `(?:${atomText})${op}${lazy ? '?' : ''}`, start: lastAtom.start, repeated: true, opStart };
        continue;
      }
      if (this.src.startsWith('\\Q', this.pos)) {
        // \Q...\E is a run of literals: a following repetition applies to the last one only
        const end = this.src.indexOf('\\E', this.pos + 2);
        const litEnd = end < 0 ? this.src.length : end;
        let i = this.pos + 2;
        while (i < litEnd) {
          const cp = this.src.codePointAt(i)!;
          const text = this.literal(cp, f);
          cur += text;
          lastAtom = { text, start: i, repeated: false };
          i += cp > 0xffff ? 2 : 1;
        }
        this.pos = end < 0 ? this.src.length : end + 2;
        continue;
      }
      const start = this.pos;
      const groupsBefore = this.groups;
      const atom = this.atom(f);
      if (atom === null) {
        // a flag group like (?i) changed f; nothing to emit
        lastAtom = undefined;
        continue;
      }
      cur += atom;
      lastAtom = { text: atom, start, repeated: false, captures: this.groups - groupsBefore };
    }
    alts.push(cur);
    return alts.length === 1 ? alts[0] : alts.join('|');
  }

  private repeatAhead(): boolean {
    return /^\{[0-9]+(,[0-9]*)?\}/.test(this.src.slice(this.pos));
  }

  private repeatOp(): string {
    const c = this.src[this.pos];
    if (c !== '{') { this.pos++; return c; }
    const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(this.src.slice(this.pos))!;
    const expr = m[0];
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : m[3] === '' ? -1 : Number(m[3]);
    if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) this.err('invalid repeat count', expr);
    this.pos += expr.length;
    return expr;
  }

  /** One atom; returns null for a bare flag group. */
  private atom(f: Flags): string | null {
    const c = this.peek()!;
    switch (c) {
      case '(':
        return this.group(f);
      case '[':
        return this.charClass(f);
      case '.':
        this.pos++;
        return f.s ? '[^]' : '[^\\n]';
      case '^':
        this.pos++;
        return f.m ? '(?:^|(?<=\\n))' : '^';
      case '$':
        this.pos++;
        return f.m ? '(?:$|(?=\\n))' : '$';
      case '\\':
        return this.escape(f);
      default:
        this.pos += c.length;
        return this.literal(c.codePointAt(0)!, f);
    }
  }

  private literal(cp: number, f: Flags): string {
    if (f.i && !this.useJsI) {
      const folded = foldRanges([[cp, cp]]);
      if (folded.length > 1 || folded[0][0] !== folded[0][1]) return rangesSource(folded);
    }
    const ch = String.fromCodePoint(cp);
    return SYNTAX_CHARS.has(ch) ? `\\${ch}` : ch;
  }

  private group(f: Flags): string | null {
    const start = this.pos;
    this.pos++; // (
    let name: string | undefined;
    let capture = true;
    const inner: Flags = { ...f };
    if (this.src[this.pos] === '?') {
      const rest = this.src.slice(this.pos);
      const named = /^\?P?<([^>]*)>/.exec(rest);
      if (rest.startsWith('?P<') || (rest.startsWith('?<') && !/^\?<[=!]/.test(rest))) {
        if (!named) this.err('invalid named capture', this.src.slice(start));
        name = named[1];
        if (!/^[A-Za-z0-9_]+$/.test(name)) this.err('invalid named capture', this.src.slice(start, this.pos + named[0].length));
        // Go allows a name twice, JS does not: keep the group unnamed and leave matching to re2js
        if (this.names.includes(name)) this.inexact = true;
        this.pos += named[0].length;
      } else {
        const fm = /^\?([imsU]*(?:-[imsU]*)?)([:)])/.exec(rest);
        if (!fm) {
          const bad = /^\?[=!<]?[=!]?/.exec(rest)![0];
          this.err('invalid or unsupported Perl syntax', `(${bad}`);
        }
        const spec = fm[1];
        if ((spec === '' && fm[2] === ')') || spec.endsWith('-')) this.err('invalid or unsupported Perl syntax', `(${fm[0]}`);
        let neg = false;
        for (const ch of spec) {
          if (ch === '-') { neg = true; continue; }
          (inner as unknown as Record<string, boolean>)[ch] = !neg;
        }
        this.pos += fm[0].length;
        if (fm[2] === ')') {
          // (?flags): applies to the rest of the current group
          Object.assign(f, inner);
          return null;
        }
        capture = false;
      }
    }
    let idx = 0;
    if (capture) {
      idx = ++this.groups;
      this.names[idx] = name;
    }
    const body = this.alternation(inner, 1);
    if (this.src[this.pos] !== ')') this.err('missing closing )', this.src);
    this.pos++;
    if (!capture) return `(?:${body})`;
    // JS group names must be identifiers; Go allows names like "1a", so those stay unnamed
    if (name !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && this.names.indexOf(name) === idx) return `(?<${name}>${body})`;
    return `(${body})`;
  }

  /** Parses an escape at pos (outside a class). */
  private escape(f: Flags): string {
    const e = this.classEscape(f, false);
    if (e.kind === 'text') return e.text;
    if (e.kind === 'ranges') return rangesSource(f.i && !this.useJsI && e.fold ? foldRanges(e.ranges) : e.ranges);
    if (e.kind === 'prop') return e.text;
    return this.literal(e.cp, f);
  }

  /**
   * Escape sequences shared by atoms and classes. Returns a literal code point, a set of
   * ranges, a property escape, or (outside classes) assertion text.
   */
  private classEscape(
    f: Flags,
    inClass: boolean,
  ):
    | { kind: 'cp'; cp: number }
    | { kind: 'ranges'; ranges: Range[]; fold: boolean }
    | { kind: 'prop'; text: string }
    | { kind: 'text'; text: string } {
    const start = this.pos;
    this.pos++; // backslash
    if (this.pos >= this.src.length) this.err('trailing backslash at end of expression', '');
    const c = this.peek()!;
    this.pos += c.length;
    switch (c) {
      case 'a': return { kind: 'cp', cp: 7 };
      case 'f': return { kind: 'cp', cp: 12 };
      case 't': return { kind: 'cp', cp: 9 };
      case 'n': return { kind: 'cp', cp: 10 };
      case 'r': return { kind: 'cp', cp: 13 };
      case 'v': return { kind: 'cp', cp: 11 };
      case 'd': return { kind: 'ranges', ranges: DIGIT, fold: false };
      case 'D': return { kind: 'ranges', ranges: complement(DIGIT), fold: false };
      case 's': return { kind: 'ranges', ranges: SPACE, fold: false };
      case 'S': return { kind: 'ranges', ranges: complement(SPACE), fold: false };
      case 'w': return { kind: 'ranges', ranges: WORD, fold: false };
      case 'W': return { kind: 'ranges', ranges: complement(WORD), fold: false };
      case 'x': {
        const rest = this.src.slice(this.pos);
        const m = /^\{([0-9A-Fa-f]+)\}/.exec(rest) ?? /^([0-9A-Fa-f]{2})/.exec(rest);
        if (!m) this.err('invalid escape sequence', this.src.slice(start, Math.min(this.src.length, this.pos + 2)));
        const cp = parseInt(m[1], 16);
        if (cp > MAX_CP) this.err('invalid escape sequence', this.src.slice(start, this.pos + m[0].length));
        this.pos += m[0].length;
        return { kind: 'cp', cp };
      }
      case 'p': case 'P': {
        const rest = this.src.slice(this.pos);
        const m = /^\{(\^?)([A-Za-z_]+)\}/.exec(rest) ?? /^()([A-Za-z])/.exec(rest);
        if (!m) this.err('invalid character class range', this.src.slice(start, this.pos + 1));
        this.pos += m[0].length;
        let negated = c === 'P';
        if (m[1] === '^') negated = !negated;
        const name = m[2];
        let prop: string;
        if (name === 'Any') {
          const rs: Range[] = [[0, MAX_CP]];
          return { kind: 'ranges', ranges: negated ? [] : rs, fold: false };
        }
        if (CATEGORIES.has(name)) prop = name;
        else prop = `Script=${name}`;
        // Go folds case into Unicode classes under (?i); JS does not
        if (f.i) this.inexact = true;
        const text = `\\${negated ? 'P' : 'p'}{${prop}}`;
        try {
          new RegExp(text, 'u');
        } catch {
          this.err('invalid character class range', this.src.slice(start, this.pos));
        }
        return { kind: 'prop', text: inClass ? text : `[${text}]` };
      }
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos);
        const lit = end < 0 ? this.src.slice(this.pos) : this.src.slice(this.pos, end);
        this.pos = end < 0 ? this.src.length : end + 2;
        if (inClass) this.err('invalid escape sequence', '\\Q');
        return { kind: 'text', text: Array.from(lit).map((ch) => this.literal(ch.codePointAt(0)!, f)).join('') };
      }
      case 'A':
        if (inClass) break;
        return { kind: 'text', text: '^' };
      case 'z':
        if (inClass) break;
        return { kind: 'text', text: '$' };
      case 'b':
        if (inClass) break;
        return { kind: 'text', text: '\\b' };
      case 'B':
        if (inClass) break;
        return { kind: 'text', text: '\\B' };
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        // a single non-zero digit is a backreference, which RE2 does not support
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))![0];
        if (c !== '0' && m === '') break;
        this.pos += m.length;
        return { kind: 'cp', cp: parseInt(c + m, 8) };
      }
      default: {
        const cp = c.codePointAt(0)!;
        if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return { kind: 'cp', cp };
      }
    }
    this.err('invalid escape sequence', this.src.slice(start, this.pos));
  }

  private charClass(f: Flags): string {
    const start = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.src[this.pos] === '^') { negated = true; this.pos++; }
    const ranges: Range[] = [];
    const props: string[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) this.err('missing closing ]', this.src.slice(start));
      const c = this.peek()!;
      if (c === ']' && !first) { this.pos++; break; }
      first = false;
      if (c === '[' && this.src[this.pos + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
        if (m) {
          const rs = POSIX[m[2]];
          if (!rs) this.err('invalid character class range', m[0]);
          ranges.push(...(m[1] ? complement(rs) : rs));
          this.pos += m[0].length;
          continue;
        }
      }
      const loStart = this.pos;
      const lo = this.classAtom(f);
      if (lo.kind !== 'cp') {
        if (lo.kind === 'ranges') ranges.push(...lo.ranges);
        else if (lo.kind === 'prop') props.push(lo.text);
        continue;
      }
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos++;
        const hi = this.classAtom(f);
        if (hi.kind !== 'cp' || hi.cp < lo.cp) this.err('invalid character class range', this.src.slice(loStart, this.pos));
        ranges.push([lo.cp, hi.cp]);
      } else {
        ranges.push([lo.cp, lo.cp]);
      }
    }
    let rs = normalize(ranges);
    // fold before any complement: with JS's i flag, [^a] must not keep A
    if (f.i) rs = foldRanges(rs);
    if (props.length === 0) return rangesSource(negated ? complement(rs) : rs);
    return rangesSource(rs, props, negated);
  }

  private classAtom(f: Flags):
    | { kind: 'cp'; cp: number }
    | { kind: 'ranges'; ranges: Range[]; fold: boolean }
    | { kind: 'prop'; text: string }
    | { kind: 'text'; text: string } {
    const c = this.peek()!;
    if (c === '\\') return this.classEscape(f, true);
    this.pos += c.length;
    return { kind: 'cp', cp: c.codePointAt(0)! };
  }
}
