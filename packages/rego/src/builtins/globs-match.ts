/**
 * regex.globs_match: do two glob-style regexes (only `.`, `*`, `+`, `[...]`, `\` special, as in
 * OPA's github.com/yashtewari/glob-intersection) both match some non-empty string?
 * Decided exactly by searching the product of the two patterns' automata.
 */
import { BuiltinError } from './registry.js';

type Token =
  | { kind: 'char'; r: number; star: boolean }
  | { kind: 'dot'; star: boolean }
  | { kind: 'set'; runes: Set<number>; star: boolean };

function invalid(input: string, pos: number, msg: string): BuiltinError {
  return new BuiltinError(`input:${input}, pos:${pos}, ${msg}: the input provided is invalid`);
}

/** Tokens with `+` expanded to `x x*`. */
function tokenize(input: string): Token[] {
  const rs = Array.from(input, (c) => c.codePointAt(0)!);
  const out: Token[] = [];
  let i = 0;
  const next = (): { r: number; escaped: boolean } | undefined => {
    if (i >= rs.length) return undefined;
    if (rs[i] === 0x5c) {
      if (i === rs.length - 1) throw invalid(input, i, 'input ends with a \\ (escape) character');
      i += 2;
      return { r: rs[i - 1], escaped: true };
    }
    i++;
    return { r: rs[i - 1], escaped: false };
  };
  for (let c = next(); c; c = next()) {
    let tok: Token;
    if (!c.escaped && c.r === 0x2e) tok = { kind: 'dot', star: false };
    else if (!c.escaped && c.r === 0x5d) throw invalid(input, i, "set-close ']' with no preceding '['");
    else if (!c.escaped && c.r === 0x5b) tok = { kind: 'set', runes: readSet(), star: false };
    else if (!c.escaped && (c.r === 0x2b || c.r === 0x2a)) {
      throw invalid(input, i, `flag '${String.fromCodePoint(c.r)}' must be preceded by a non-flag`);
    } else tok = { kind: 'char', r: c.r, star: false };
    // an optional flag right after the token
    const flag = i < rs.length ? rs[i] : undefined;
    if (flag === 0x2a) { i++; out.push({ ...tok, star: true }); }
    else if (flag === 0x2b) { i++; out.push(tok, { ...tok, star: true }); }
    else out.push(tok);
  }
  return out;

  function readSet(): Set<number> {
    const runes = new Set<number>();
    let prev: number | undefined;
    for (let c = next(); ; c = next()) {
      if (!c) throw invalid(input, i, 'found [ without matching ]');
      if (!c.escaped && c.r === 0x5d) return runes;
      if (!c.escaped && c.r === 0x2d) {
        if (prev === undefined) throw invalid(input, i, "range character '-' must be preceded by a Unicode character");
        if (i >= rs.length - 1) throw invalid(input, i, "range character '-' must be followed by a Unicode character");
        const hi = next()!;
        if (!hi.escaped && (hi.r === 0x5d || hi.r === 0x2d)) {
          throw invalid(input, i, "range character '-' cannot be followed by a special symbol");
        }
        if (hi.r < prev) {
          throw invalid(input, i, `range is out of order: '${String.fromCodePoint(hi.r)}' comes before '${String.fromCodePoint(prev)}' in Unicode`);
        }
        for (let x = prev; x <= hi.r; x++) runes.add(x);
        prev = undefined;
        continue;
      }
      runes.add(c.r);
      prev = c.r;
    }
  }
}

function tokensMatch(a: Token, b: Token): boolean {
  if (a.kind === 'dot' || b.kind === 'dot') return true;
  if (a.kind === 'char' && b.kind === 'char') return a.r === b.r;
  if (a.kind === 'char' && b.kind === 'set') return b.runes.has(a.r);
  if (a.kind === 'set' && b.kind === 'char') return a.runes.has(b.r);
  const [x, y] = [a as Extract<Token, { kind: 'set' }>, b as Extract<Token, { kind: 'set' }>];
  for (const r of x.runes) if (y.runes.has(r)) return true;
  return false;
}

/** States reachable from `i` by skipping starred tokens. */
function closure(g: Token[], i: number): number[] {
  const out = [i];
  while (i < g.length && g[i].star) out.push(++i);
  return out;
}

export function globsMatch(p1: string, p2: string): boolean {
  const g1 = tokenize(p1), g2 = tokenize(p2);
  const seen = new Set<string>();
  const queue: [number, number, boolean][] = [];
  const push = (i: number, j: number, consumed: boolean): void => {
    for (const a of closure(g1, i)) {
      for (const b of closure(g2, j)) {
        const key = `${a},${b},${consumed}`;
        if (!seen.has(key)) { seen.add(key); queue.push([a, b, consumed]); }
      }
    }
  };
  push(0, 0, false);
  while (queue.length > 0) {
    const [i, j, consumed] = queue.shift()!;
    if (consumed && i === g1.length && j === g2.length) return true;
    if (i >= g1.length || j >= g2.length) continue;
    const a = g1[i], b = g2[j];
    if (!tokensMatch(a, b)) continue;
    push(a.star ? i : i + 1, b.star ? j : j + 1, true);
  }
  return false;
}
