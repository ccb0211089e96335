/**
 * Secret redaction for everything a reviewer will read or the ledger will keep: well-known credential formats,
 * values under credential-looking keys, and the operator's own patterns from configuration.
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
const SECRET_KEY = /^(authorization|proxy-authorization|x-api-key|api[-_]?key|password|passwd|secret|client[-_]?secret|access[-_]?token|refresh[-_]?token|token|cookie|set-cookie)$/i;

export class Redactor {
  private readonly patterns: RegExp[];

  /** `extra` are regular expressions (as strings) from configuration; a bad one is a start-up error naming it. */
  constructor(extra: string[] = []) {
    this.patterns = [
      ...BUILT_IN,
      ...extra.map((source) => {
        try {
          return new RegExp(source, 'g');
        } catch (err) {
          throw new Error(`approvals.redact.patterns: invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
        }
      }),
    ];
  }

  text(s: string): string {
    let out = s.replace(BEARER, (_m, scheme: string) => `${scheme} ${MARK}`);
    for (const p of this.patterns) out = out.replace(p, MARK);
    return out;
  }

  /** A deep copy with secrets replaced; the input is not changed. */
  value<T>(v: T): T {
    return this.walk(v) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) && x !== null && x !== '' ? MARK : this.walk(x);
      return out;
    }
    return v;
  }
}
