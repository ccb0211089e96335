/**
 * Console sign-in: random tokens in an HttpOnly, SameSite=Strict cookie, kept (hashed) in the session store, so a
 * restart does not sign reviewers out and replicas sharing the store share sign-ins. A session from single sign-on
 * keeps the reviewer the identity provider named (roles and groups as of sign-in, until the session ends). The CLI
 * uses HTTP Basic (local accounts) on the JSON API instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Accounts } from '../accounts.js';
import type { Reviewer } from '../types.js';
import { GateHttpError } from '../../http/errors.js';
import type { SessionStore } from '../../stores/sessions.js';
import type { LoginResult, LoginThrottle } from './throttle.js';

export const COOKIE = 'gk_console';

export class Sessions {
  constructor(
    private readonly accounts: Accounts,
    private readonly store: SessionStore,
    private readonly ttlMs: number,
    private readonly throttle: LoginThrottle,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks a password through the login throttle (console/throttle.ts). */
  signIn(req: IncomingMessage, username: string, password: string): Promise<LoginResult> {
    return this.throttle.attempt(username, req.socket.remoteAddress ?? 'unknown', () => this.accounts.authenticate(username, password));
  }

  /** A session for a local account, or (with `via`) for a reviewer the identity provider named. */
  async create(reviewer: Reviewer | string, via?: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const username = typeof reviewer === 'string' ? reviewer : reviewer.username;
    const stored = typeof reviewer !== 'string' && via ? { reviewer: { displayName: reviewer.displayName, roles: reviewer.roles, groups: reviewer.groups, via } } : {};
    await this.store.create(hashToken(token), { username, expiresAt: this.now() + this.ttlMs, ...stored });
    return token;
  }

  /** How the session behind this request was signed in: a local account, or an identity provider (`via`). */
  async via(req: IncomingMessage): Promise<string | undefined> {
    const token = cookieOf(req, COOKIE);
    const s = token ? await this.store.get(hashToken(token), this.now()) : undefined;
    return s?.reviewer?.via;
  }

  async end(req: IncomingMessage): Promise<void> {
    const token = cookieOf(req, COOKIE);
    if (token) await this.store.delete(hashToken(token));
  }

  /** The signed-in reviewer: by session cookie, or (for the JSON API) by HTTP Basic credentials. */
  async who(req: IncomingMessage, allowBasic = false): Promise<Reviewer | undefined> {
    const token = cookieOf(req, COOKIE);
    const s = token ? await this.store.get(hashToken(token), this.now()) : undefined;
    if (s?.reviewer) return { username: s.username, displayName: s.reviewer.displayName, roles: s.reviewer.roles, groups: s.reviewer.groups };
    if (s) return this.accounts.get(s.username);
    const auth = req.headers.authorization;
    if (allowBasic && auth?.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        const result = await this.signIn(req, decoded.slice(0, colon), decoded.slice(colon + 1));
        if (result.ok) return result.reviewer;
        if (result.throttled) throw new GateHttpError('too_many_requests', result.throttled.message, undefined, { 'retry-after': String(result.throttled.retryAfterS) });
      }
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

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
