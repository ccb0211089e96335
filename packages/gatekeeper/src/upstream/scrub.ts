/**
 * Keeps the gatekeeper's own secrets out of what an upstream says back. An upstream's error often echoes the
 * request ("incorrect API key: sk-…", a proxy's debug page with the Authorization header); the agent must never
 * read the credential the gatekeeper added, nor any other secret the text carries.
 *
 * A `Scrubber` knows the credential values of one upstream. It replaces every run of at least 8 characters (the
 * whole value when shorter) that is part of one — so a truncated or partly masked echo goes too — compared without
 * case, then the secret patterns (API keys, bearer tokens, JWTs, private keys, configured patterns). `leaks` reads
 * the scrubbed text the ways a client might decode it (percent-encoding, JSON and \x escapes, base64 words) and
 * says whether a fragment survived in one of those readings; the caller then withholds the text altogether.
 */
import { Redactor } from '../redact.js';

const MARK = '[REDACTED]';
const FRAGMENT = 8;
/** Credential parts shorter than this are not searched for: too common to mean the credential. */
const SHORTEST = 4;

export class Scrubber {
  private readonly secrets: string[];
  private readonly grams: Set<string>[];
  private readonly redact: (text: string) => string;

  constructor(credentialValues: readonly string[], redactor: Redactor = new Redactor()) {
    this.redact = (text) => redactor.text(text);
    this.secrets = [...new Set(credentialValues.flatMap(partsOf))].filter((s) => s.length >= SHORTEST).map(fold);
    this.grams = this.secrets.map((s) => gramsOf(s, Math.min(FRAGMENT, s.length)));
  }

  text(s: string): string {
    let out = s;
    this.secrets.forEach((secret, i) => (out = replaceFragments(out, secret, this.grams[i]!)));
    return this.redact(out);
  }

  /** A deep copy of a parsed JSON value with every string (keys too) scrubbed. */
  value(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.text(k), this.value(x)]));
    return v;
  }

  /** Whether a decoded reading of `s` still holds a credential fragment or a secret pattern. */
  leaks(s: string): boolean {
    return readings(s).some((r) => r !== this.text(r) || this.holdsFragment(fold(r)));
  }

  private holdsFragment(folded: string): boolean {
    return this.secrets.some((secret, i) => {
      const k = Math.min(FRAGMENT, secret.length);
      for (let at = 0; at + k <= folded.length; at++) if (this.grams[i]!.has(folded.slice(at, at + k))) return true;
      return false;
    });
  }
}

/** Authorization schemes: words of a credential value that are not secret. */
const SCHEMES = /^(bearer|basic|token|digest|apikey|key|sharedaccesssignature)$/i;

/** The value itself, or its words but the scheme (the token after "Bearer "), and what a Basic credential encodes. */
function partsOf(value: string): string[] {
  const words = value.split(/\s+/).filter(Boolean);
  const parts = words.length > 1 ? words.filter((w) => !SCHEMES.test(w)) : [value];
  for (const w of words) {
    const decoded = base64Text(w);
    if (decoded?.includes(':')) parts.push(decoded, ...decoded.split(':'));
  }
  return parts;
}

/** Lower case, one code unit for one, so positions in the folded text are positions in the original. */
function fold(s: string): string {
  let out = '';
  for (const ch of s) {
    const lower = ch.toLowerCase();
    out += lower.length === ch.length ? lower : ch;
  }
  return out;
}

function gramsOf(secret: string, k: number): Set<string> {
  const grams = new Set<string>();
  for (let i = 0; i + k <= secret.length; i++) grams.add(secret.slice(i, i + k));
  return grams;
}

/** Replaces each maximal run of `text` that is a substring of `secret` (at least k long) with the mark. */
function replaceFragments(text: string, secret: string, grams: Set<string>): string {
  const k = Math.min(FRAGMENT, secret.length);
  const folded = fold(text);
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (i + k <= text.length && grams.has(folded.slice(i, i + k))) {
      let end = i + k;
      while (end < text.length && secret.includes(folded.slice(i, end + 1))) end++;
      out += MARK;
      i = end;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

/** The text as it is and as a client might decode it. */
function readings(s: string): string[] {
  const out = [s];
  const percent = s.replace(/%[0-9A-Fa-f]{2}/g, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
  if (percent !== s) out.push(percent);
  const escapes = s.replace(/\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})/g, (_m, u: string | undefined, x: string | undefined) => String.fromCharCode(parseInt(u ?? x!, 16)));
  if (escapes !== s) out.push(escapes);
  for (const word of s.match(/[A-Za-z0-9+/_-]{12,}={0,2}/g) ?? []) {
    const decoded = base64Text(word);
    if (decoded) out.push(decoded);
  }
  return out;
}

/** The text a base64 (or base64url) word encodes, when it is printable text. */
function base64Text(word: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(word) || word.length < 8) return undefined;
  const text = Buffer.from(word.replaceAll('-', '+').replaceAll('_', '/'), 'base64').toString('utf8');
  return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}
