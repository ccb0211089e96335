/**
 * Secret redaction for everything the gatekeeper keeps or shows — ledger payloads and records, logs, notices, the
 * console: well-known credential formats, values under credential-looking keys, and the operator's own patterns
 * from configuration (`redact.patterns`). Secrets are replaced by "[REDACTED]" before anything is persisted.
 */

const MARK = '[REDACTED]';

const BUILT_IN: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI-style API keys
  /\b(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // JWTs
];
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]+=*/gi;
/**
 * Whether a string holds anything BEARER or BUILT_IN would replace: one scan instead of seven, so the common case
 * (nothing to redact: almost every string of every payload) costs one regex test. BEARER's case-insensitivity is
 * spelt out so the built-ins keep their own case rules.
 */
const ANY_BUILT_IN = new RegExp([/\b(?:[Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc])\s+[A-Za-z0-9._~+/-]/.source, ...BUILT_IN.map((p) => p.source)].join('|'));
const SECRET_KEY = /^(authorization|proxy-authorization|x-api-key|api[-_]?key|password|passwd|secret|client[-_]?secret|access[-_]?token|refresh[-_]?token|token|cookie|set-cookie)$/i;

const MEMO_CHARS = 128;
const MEMO_ENTRIES = 8192;

export class Redactor {
  private readonly patterns: RegExp[];
  /** The operator's own patterns (tested one by one: their group numbers must not shift). */
  private readonly extra: RegExp[];
  private readonly memo = new Map<string, string>();
  /** Frozen values without a secret, all the way down (see holdsSecret). */
  private readonly clean = new WeakSet<object>();

  /** `extra` are regular expressions (as strings) from configuration; a bad one is a start-up error naming it. */
  constructor(extra: string[] = [], where = 'redact.patterns') {
    this.extra = extra.map((source) => {
      try {
        return new RegExp(source, 'g');
      } catch (err) {
        throw new Error(`${where}: invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
      }
    });
    this.patterns = [...BUILT_IN, ...this.extra];
  }

  text(s: string): string {
    // Short strings recur in every payload (ids, digests, kinds, targets, the session history): remember them.
    const short = s.length <= MEMO_CHARS;
    const known = short ? this.memo.get(s) : undefined;
    if (known !== undefined) return known;
    if (!ANY_BUILT_IN.test(s) && !this.extra.some((p) => matches(p, s))) return s;
    let out = s.replace(BEARER, (_m, scheme: string) => `${scheme} ${MARK}`);
    for (const p of this.patterns) out = out.replace(p, MARK);
    if (short) {
      if (this.memo.size >= MEMO_ENTRIES) this.memo.clear();
      this.memo.set(s, out);
    }
    return out;
  }

  /** A deep copy with secrets replaced; the input is not changed. */
  value<T>(v: T): T {
    return this.scrub(v).value;
  }

  /** Like `value`, and how many secrets were replaced (0: the very same value comes back, nothing copied). */
  scrub<T>(v: T): { value: T; count: number } {
    // Almost nothing the gatekeeper persists holds a secret: finding that out without copying spares a deep copy
    // (and its garbage) of every payload. Only a value that has one is walked again and copied.
    if (!this.holdsSecret(v)) return { value: v, count: 0 };
    const counter = { n: 0 };
    const value = this.walk(v, counter) as T;
    return { value: counter.n === 0 ? v : value, count: counter.n };
  }

  /**
   * Whether `walk` would replace anything in `v`: the same tests, nothing allocated. A frozen value found clean all
   * the way down can never change, so it is remembered and not tested again (the session history's forms recur in
   * every payload of a session: sessions/summary.ts freezes them).
   */
  private holdsSecret(v: unknown): boolean {
    if (typeof v === 'string') return this.text(v) !== v;
    if (v === null || typeof v !== 'object') return false;
    if (this.clean.has(v)) return false;
    let frozen = Object.isFrozen(v);
    if (Array.isArray(v)) {
      for (const x of v) {
        if (this.holdsSecret(x)) return true;
        frozen &&= this.staysClean(x);
      }
    } else {
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        const x = (v as Record<string, unknown>)[k];
        if (SECRET_KEY.test(k) ? x !== null && x !== '' && x !== MARK : this.holdsSecret(x)) return true;
        frozen &&= this.staysClean(x);
      }
    }
    if (frozen) this.clean.add(v);
    return false;
  }

  /** A value holdsSecret found clean that cannot change: a primitive, or remembered as frozen and clean. */
  private staysClean(x: unknown): boolean {
    return x === null || typeof x !== 'object' || this.clean.has(x);
  }

  private walk(v: unknown, counter: { n: number }): unknown {
    if (typeof v === 'string') {
      const out = this.text(v);
      if (out !== v) counter.n++;
      return out;
    }
    if (Array.isArray(v)) return v.map((x) => this.walk(x, counter));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_KEY.test(k) && x !== null && x !== '' && x !== MARK) {
          counter.n++;
          out[k] = MARK;
        } else out[k] = this.walk(x, counter);
      }
      return out;
    }
    return v;
  }
}

/** `test` on a global regex without leaving its lastIndex behind for the next `replace`. */
function matches(p: RegExp, s: string): boolean {
  p.lastIndex = 0;
  const found = p.test(s);
  p.lastIndex = 0;
  return found;
}
