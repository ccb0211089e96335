/**
 * Console sign-in sessions: random tokens in an HttpOnly, SameSite=Strict cookie, kept in memory (a restart
 * signs everyone out, which is acceptable for a sidecar). The CLI uses HTTP Basic on the JSON API instead.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Accounts } from '../approvals/accounts.js';
import type { Reviewer } from '../approvals/types.js';

export const COOKIE = 'gk_console';

export class Sessions {
  private readonly sessions = new Map<string, { username: string; expires: number }>();

  constructor(
    private readonly accounts: Accounts,
    private readonly ttlMs: number,
  ) {}

  create(username: string): string {
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, { username, expires: Date.now() + this.ttlMs });
    return token;
  }

  end(req: IncomingMessage): void {
    const token = cookieOf(req, COOKIE);
    if (token) this.sessions.delete(token);
  }

  /** The signed-in reviewer: by session cookie, or (for the JSON API) by HTTP Basic credentials. */
  async who(req: IncomingMessage, allowBasic = false): Promise<Reviewer | undefined> {
    const token = cookieOf(req, COOKIE);
    const s = token ? this.sessions.get(token) : undefined;
    if (s && s.expires > Date.now()) return this.accounts.get(s.username);
    if (s) this.sessions.delete(token!);
    const auth = req.headers.authorization;
    if (allowBasic && auth?.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return this.accounts.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    return undefined;
  }

  cookie(token: string, secure: boolean): string {
    return `${COOKIE}=${token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  static clearCookie(): string {
    return `${COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
