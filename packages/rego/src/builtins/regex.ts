/**
 * Regular-expression builtins (OPA topdown/regex.go) over Go RE2 syntax. re2js (a port of Go's
 * regexp) parses every pattern; patterns that V8 runs in linear time are translated by ./re2.ts
 * and run on V8's engine, all others on re2js's automata, so no pattern/input pair can
 * backtrack for minutes. Compiled patterns are cached process-wide (bounded), as OPA does.
 */
import { type Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { int, str } from './operands.js';
import { RE2JS } from 're2js';
import { RegexSyntaxError, translateRE2 } from './go/re2.js';
import { globsMatch } from './globs-match.js';

/** One match: UTF-16 offsets, capture groups (undefined when a group did not take part). */
export interface Match {
  start: number;
  end: number;
  groups: (string | undefined)[];
  named: Record<string, string | undefined>;
}

export interface CompiledRegex {
  test(s: string): boolean;
  /** The leftmost match starting at or after `pos` (with the text before `pos` as context). */
  exec(s: string, pos: number): Match | undefined;
}

/** V8's backtracking engine, for patterns that cannot backtrack catastrophically (fast path). */
class NativeRegex implements CompiledRegex {
  constructor(private readonly re: RegExp) {}

  test(s: string): boolean {
    this.re.lastIndex = 0;
    return this.re.test(s);
  }

  exec(s: string, pos: number): Match | undefined {
    this.re.lastIndex = pos;
    const m = this.re.exec(s);
    if (!m) return undefined;
    return { start: m.index, end: m.index + m[0].length, groups: Array.from(m), named: m.groups ?? {} };
  }
}

/** re2js: Go's RE2 automata, linear time whatever the pattern and input. */
class LinearRegex implements CompiledRegex {
  private readonly names: [string, number][];

  constructor(private readonly re: RE2JS) {
    this.names = Object.entries(re.namedGroups());
  }

  test(s: string): boolean {
    return this.re.matcher(s).find();
  }

  exec(s: string, pos: number): Match | undefined {
    const m = this.re.matcher(s);
    if (!m.find(pos)) return undefined;
    const groups: (string | undefined)[] = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
    const named: Record<string, string | undefined> = {};
    for (const [name, i] of this.names) named[name] = groups[i];
    return { start: m.start(), end: m.end(), groups, named };
  }
}

const CACHE_MAX = 1000;
const cache = new Map<string, CompiledRegex | RegexSyntaxError>();

function remember<T extends CompiledRegex | RegexSyntaxError>(key: string, v: T): T {
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, v);
  return v;
}

function compileUncached(pattern: string): CompiledRegex {
  // re2js is a port of Go's regexp: its parser decides validity, with Go's error messages
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(pattern);
  } catch (e) {
    throw new RegexSyntaxError((e as Error).message);
  }
  // V8 runs the translation when that cannot backtrack badly (much faster than the automata)
  try {
    const t = translateRE2(pattern);
    if (t.exact && t.backtrackSafe) return new NativeRegex(new RegExp(t.source, `g${t.flags}`));
  } catch {
    // a construct the translator does not cover: the automata handle it
  }
  return new LinearRegex(re2);
}

/** Compiles (or fetches) a Go regular expression; throws RegexSyntaxError for invalid ones. */
export function compileRegex(pattern: string): CompiledRegex {
  let c = cache.get(pattern);
  if (c === undefined) {
    try {
      c = remember(pattern, compileUncached(pattern));
    } catch (e) {
      const err = e instanceof RegexSyntaxError ? e : new RegexSyntaxError('invalid or unsupported Perl syntax', pattern);
      c = remember(pattern, err);
    }
  }
  if (c instanceof RegexSyntaxError) throw c;
  return c;
}

function compileOrBuiltinError(pattern: string): CompiledRegex {
  try {
    return compileRegex(pattern);
  } catch (e) {
    throw new BuiltinError((e as Error).message);
  }
}

/**
 * Go's Regexp.FindAll*: successive non-overlapping matches, where an empty match right after
 * the previous match is skipped. n < 0 means all.
 */
export function findAll(c: CompiledRegex, s: string, n: number): Match[] {
  const out: Match[] = [];
  if (n === 0) return out;
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length && (n < 0 || out.length < n)) {
    const m = c.exec(s, pos);
    if (!m) break;
    let accept = true;
    if (m.end === pos) {
      // empty match at pos
      if (m.start === prevEnd) accept = false;
      pos += pos < s.length && s.codePointAt(pos)! > 0xffff ? 2 : 1;
    } else {
      pos = m.end;
    }
    prevEnd = m.end;
    if (accept) out.push(m);
  }
  return out;
}

/** Go's Regexp.Split(s, -1). */
function split(c: CompiledRegex, pattern: string, s: string): string[] {
  if (pattern !== '' && s === '') return [''];
  const matches = findAll(c, s, -1);
  const parts: string[] = [];
  let beg = 0, end = 0;
  for (const m of matches) {
    end = m.start;
    if (m.end !== 0) parts.push(s.slice(beg, end));
    beg = m.end;
  }
  if (end !== s.length) parts.push(s.slice(beg));
  return parts;
}

/** Go's Regexp.Expand template: $1, ${1}, $name, ${name}, $$. */
function expand(template: string, m: Match): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== '$' || i + 1 >= template.length) { out += ch; continue; }
    if (template[i + 1] === '$') { out += '$'; i++; continue; }
    let name: string | undefined;
    let len = 0;
    const braced = /^\{([A-Za-z0-9_]+)\}/.exec(template.slice(i + 1));
    if (braced) { name = braced[1]; len = braced[0].length; }
    else {
      const bare = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (bare) { name = bare[0]; len = bare[0].length; }
    }
    if (name === undefined) { out += ch; continue; }
    i += len;
    if (/^[0-9]+$/.test(name)) out += m.groups[Number(name)] ?? '';
    else out += m.named[name] ?? '';
  }
  return out;
}

function replace(c: CompiledRegex, s: string, template: string): string {
  let out = '';
  let last = 0;
  for (const m of findAll(c, s, -1)) {
    out += s.slice(last, m.start) + expand(template, m);
    last = m.end;
  }
  return out + s.slice(last);
}

/** gorilla/mux-style template: literal text with regexes between the delimiters. */
function templateRegex(tpl: string, open: string, close: string): CompiledRegex {
  const key = `\u0000tpl${open}${close}${tpl}`;
  const hit = cache.get(key);
  if (hit !== undefined && !(hit instanceof RegexSyntaxError)) return hit;
  let level = 0, idx = 0;
  const idxs: number[] = [];
  for (let i = 0; i < tpl.length; i++) {
    if (tpl[i] === open) {
      if (++level === 1) idx = i;
    } else if (tpl[i] === close) {
      if (--level === 0) idxs.push(idx, i + 1);
      else if (level < 0) throw new BuiltinError(`unbalanced braces in ${JSON.stringify(tpl)}`);
    }
  }
  if (level !== 0) throw new BuiltinError(`unbalanced braces in ${JSON.stringify(tpl)}`);
  let pattern = '^';
  let end = 0;
  for (let i = 0; i < idxs.length; i += 2) {
    const raw = tpl.slice(end, idxs[i]);
    end = idxs[i + 1];
    const patt = tpl.slice(idxs[i] + 1, end - 1);
    compileOrBuiltinError(`^${patt}$`);
    pattern += `${quoteMeta(raw)}(${patt})`;
  }
  pattern += `${quoteMeta(tpl.slice(end))}$`;
  const c = compileOrBuiltinError(pattern);
  return remember(key, c);
}

/** Go's regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function isValid(pattern: Value): boolean {
  if (typeof pattern !== 'string') return false;
  try {
    compileRegex(pattern);
    return true;
  } catch {
    return false;
  }
}

const matchDef = {
  args: ['string', 'string'],
  result: 'boolean',
  fn: ([p, v]: Value[]) => {
    const pattern = str(p, 1), value = str(v, 2);
    return compileOrBuiltinError(pattern).test(value);
  },
};

export const builtins: BuiltinTable = {
  'regex.match': { name: 'regex.match', ...matchDef },
  re_match: { name: 're_match', ...matchDef },
  'regex.is_valid': {
    name: 'regex.is_valid',
    // OPA declares `string` but answers false (not a type error) for other operands at runtime
    args: ['any'],
    result: 'boolean',
    fn: ([p]) => isValid(p),
  },
  'regex.split': {
    name: 'regex.split',
    args: ['string', 'string'],
    result: 'array[string]',
    fn: ([p, v]) => {
      const pattern = str(p, 1);
      return split(compileOrBuiltinError(pattern), pattern, str(v, 2));
    },
  },
  'regex.find_n': {
    name: 'regex.find_n',
    args: ['string', 'string', 'number'],
    result: 'array[string]',
    fn: ([p, v, n]) => {
      const pattern = str(p, 1), value = str(v, 2), count = int(n, 3);
      return findAll(compileOrBuiltinError(pattern), value, count).map((m) => m.groups[0] ?? '');
    },
  },
  'regex.find_all_string_submatch_n': {
    name: 'regex.find_all_string_submatch_n',
    args: ['string', 'string', 'number'],
    result: 'array[array[string]]',
    fn: ([p, v, n]) => {
      const pattern = str(p, 1), value = str(v, 2), count = int(n, 3);
      return findAll(compileOrBuiltinError(pattern), value, count).map((m) => m.groups.map((g) => g ?? ''));
    },
  },
  'regex.replace': {
    name: 'regex.replace',
    args: ['string', 'string', 'string'],
    result: 'string',
    fn: ([s, p, v]) => {
      const base = str(s, 1), pattern = str(p, 2), value = str(v, 3);
      return replace(compileOrBuiltinError(pattern), base, value);
    },
  },
  'regex.template_match': {
    name: 'regex.template_match',
    args: ['string', 'string', 'string', 'string'],
    result: 'boolean',
    fn: ([t, m, s, e]) => {
      const tpl = str(t, 1), match = str(m, 2), start = str(s, 3), end = str(e, 4);
      const sLen = Buffer.byteLength(start), eLen = Buffer.byteLength(end);
      if (sLen !== 1) throw new BuiltinError(`start delimiter has to be exactly one character long but is ${sLen} long`);
      if (eLen !== 1) throw new BuiltinError(`end delimiter has to be exactly one character long but is ${sLen} long`);
      return templateRegex(tpl, start, end).test(match);
    },
  },
  'regex.globs_match': {
    name: 'regex.globs_match',
    args: ['string', 'string'],
    result: 'boolean',
    fn: ([a, b]) => globsMatch(str(a, 1), str(b, 2)),
  },
};
