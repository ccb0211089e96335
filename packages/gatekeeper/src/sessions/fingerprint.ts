/**
 * Fingerprints of result text, to recognise it later inside tool arguments and messages without keeping the text.
 *
 * Text is normalised (NFKC, lower case, whitespace runs as one space), then every 16-character window (k-gram) is
 * hashed (32-bit polynomial hash). A result keeps its sorted, unique k-gram hashes; a later string matches where a
 * run of at least MIN_RUN consecutive k-grams is found among them, i.e. it shares at least MIN_CHARS characters
 * of normalised text with the result. The run requirement keeps chance 32-bit collisions out (one k-gram alone
 * would collide now and then across thousands of lookups).
 *
 * What it cannot see (documented in src/sessions/README.md): text shorter than MIN_CHARS, paraphrase, translation,
 * summaries, re-encoding (base64, URL- or HTML-escaping, another JSON quoting), text split into pieces shorter than
 * MIN_CHARS, and anything beyond the first MAX_INDEXED characters of a result or MAX_SCANNED of a string.
 */

const K = 16;
const MIN_RUN = 4;
export const MIN_CHARS = K + MIN_RUN - 1;
export const MAX_INDEXED = 64 * 1024;
export const MAX_SCANNED = 64 * 1024;
const BASE = 0x01000193;
/** BASE^(K-1) mod 2^32: removes the character leaving the window. */
const OUT = (() => {
  let p = 1;
  for (let i = 0; i < K - 1; i++) p = Math.imul(p, BASE);
  return p;
})();

export function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ');
}

/** The k-gram hashes of normalised text, in order (length - K + 1 of them; none when shorter than K). */
function kgrams(text: string): Uint32Array {
  const n = text.length - K + 1;
  if (n <= 0) return new Uint32Array(0);
  const out = new Uint32Array(n);
  let h = 0;
  for (let i = 0; i < K; i++) h = (Math.imul(h, BASE) + text.charCodeAt(i)) | 0;
  out[0] = h;
  for (let i = 1; i < n; i++) {
    h = (Math.imul(h - Math.imul(text.charCodeAt(i - 1), OUT), BASE) + text.charCodeAt(i + K - 1)) | 0;
    out[i] = h;
  }
  return out;
}

/** Every string in a result (its JSON text parsed, where it is JSON), so quoted JSON matches its unquoted copy. */
export function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    const parsed = parseJsonContainer(value);
    if (parsed === undefined) out.push(value);
    else stringsOf(parsed, out);
  } else if (Array.isArray(value)) {
    for (const v of value) stringsOf(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) stringsOf(v, out);
  }
  return out;
}

function parseJsonContainer(text: string): unknown {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sorted unique k-gram hashes of a result's strings (up to MAX_INDEXED characters in all). */
export function fingerprint(result: unknown): { chars: number; hashes: Uint32Array } {
  const parts: Uint32Array[] = [];
  let chars = 0;
  for (const s of stringsOf(result)) {
    if (chars >= MAX_INDEXED) break;
    const text = normalize(s).slice(0, MAX_INDEXED - chars);
    chars += text.length;
    parts.push(kgrams(text));
  }
  const all = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  all.sort();
  let unique = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[unique - 1]) all[unique++] = all[i]!;
  return { chars, hashes: all.slice(0, unique) };
}

/** A string's k-grams, computed once and matched against several results. */
export class Probe {
  private readonly grams: Uint32Array;
  constructor(text: string) {
    this.grams = text.length < MIN_CHARS ? new Uint32Array(0) : kgrams(normalize(text.slice(0, MAX_SCANNED)));
  }

  get empty(): boolean {
    return this.grams.length < MIN_RUN;
  }

  /** Length of the longest normalised text shared with the result (0 below MIN_CHARS). */
  sharedChars(hashes: Uint32Array): number {
    let run = 0;
    let best = 0;
    for (const g of this.grams) {
      run = has(hashes, g) ? run + 1 : 0;
      if (run > best) best = run;
    }
    return best >= MIN_RUN ? best + K - 1 : 0;
  }
}

function has(sorted: Uint32Array, value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
