/**
 * Console sign-in throttling, per account and per client address.
 *
 * Failures are counted in the session store (shared by replicas that share it). After `free_failures` failures in
 * a row the next attempt waits `backoff_base_ms`, doubling with each further failure up to `backoff_max_ms`; at
 * `lockout_after` failures the key is locked for `lockout_s`. A client address has its own, higher, thresholds (one
 * address may serve several reviewers). A throttled attempt is answered 429 with Retry-After without checking the
 * password — and without counting as a failure, so a guesser cannot keep an account locked for longer than
 * `lockout_s` after its last real try. A success clears the account's count, not the address's.
 *
 * Password checks (scrypt, on libuv's thread pool) run `max_concurrent_verifications` at a time with at most
 * `max_waiting_verifications` queued, and one at a time per account: a burst of guesses is refused (429) instead of
 * filling the thread pool that the gateway's file and DNS work shares, and the CPU the agents' traffic needs.
 */
import { canonicalIdentity } from '../../identity.js';
import type { Logger } from '../../logger.js';
import type { LoginFailures, SessionStore } from '../../stores/sessions.js';
import type { Reviewer } from '../types.js';
import type { LoginMetrics } from '../metrics.js';

export interface ThrottleSettings {
  free_failures: number;
  backoff_base_ms: number;
  backoff_max_ms: number;
  lockout_after: number;
  lockout_s: number;
  address_free_failures: number;
  address_lockout_after: number;
  window_s: number;
  max_concurrent_verifications: number;
  max_waiting_verifications: number;
}

export type Throttled = { reason: 'locked' | 'backoff' | 'busy'; retryAfterS: number; message: string };
export type LoginResult = { ok: true; reviewer: Reviewer } | { ok: false; throttled?: Throttled };

export class LoginThrottle {
  private readonly checks: Semaphore;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly store: SessionStore,
    private readonly settings: ThrottleSettings,
    private readonly metrics: LoginMetrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.checks = new Semaphore(settings.max_concurrent_verifications, settings.max_waiting_verifications);
    metrics.observeChecks(() => ({ active: this.checks.active, waiting: this.checks.waiting }));
  }

  /** Runs `check` (the password verification) unless the account or address is throttled. */
  async attempt(username: string, address: string, check: () => Promise<Reviewer | undefined>): Promise<LoginResult> {
    const account = `account:${canonicalIdentity(username)}`;
    const client = `address:${addressKey(address)}`;
    const refused = (await this.wait(account, client)) ?? this.busy(account);
    if (refused) return this.refuse(refused, username, address);
    this.inFlight.add(account);
    let reviewer: Reviewer | undefined;
    try {
      const ran = await this.checks.run(check);
      if (!ran.ran) return this.refuse(busy('too many sign-ins are being checked'), username, address);
      reviewer = ran.value;
    } finally {
      this.inFlight.delete(account);
    }
    if (reviewer) {
      await this.store.clearLoginFailures(account);
      this.metrics.logins.inc({ result: 'success' });
      return { ok: true, reviewer };
    }
    await this.failed(account, client, username, address);
    return { ok: false };
  }

  /** Forgets counts older than the window (and any lockout), called by the session sweep. */
  sweep(): Promise<number> {
    return this.store.sweepLoginFailures(this.now() - Math.max(this.settings.window_s, this.settings.lockout_s) * 1000);
  }

  private async wait(account: string, client: string): Promise<Throttled | undefined> {
    const [a, c] = await Promise.all([this.store.loginFailures(account), this.store.loginFailures(client)]);
    const s = this.settings;
    return this.until(a, s.free_failures, s.lockout_after, 'this account') ?? this.until(c, s.address_free_failures, s.address_lockout_after, 'this address');
  }

  private until(f: LoginFailures | undefined, free: number, lockout: number, what: string): Throttled | undefined {
    if (!f || f.failures < free) return undefined;
    const s = this.settings;
    const locked = f.failures >= lockout;
    const delay = locked ? s.lockout_s * 1000 : Math.min(s.backoff_max_ms, s.backoff_base_ms * 2 ** (f.failures - free));
    const left = f.lastFailureAt + delay - this.now();
    if (left <= 0) return undefined;
    const retryAfterS = Math.ceil(left / 1000);
    return locked
      ? { reason: 'locked', retryAfterS, message: `too many failed sign-ins: ${what} is locked for ${retryAfterS} s` }
      : { reason: 'backoff', retryAfterS, message: `too many failed sign-ins from ${what}: try again in ${retryAfterS} s` };
  }

  private busy(account: string): Throttled | undefined {
    return this.inFlight.has(account) ? busy('a sign-in to this account is already being checked') : undefined;
  }

  private refuse(t: Throttled, username: string, address: string): LoginResult {
    this.metrics.logins.inc({ result: t.reason === 'busy' ? 'busy' : t.reason === 'locked' ? 'locked' : 'throttled' });
    this.logger.debug({ username, address, reason: t.reason, retry_after_s: t.retryAfterS }, 'console sign-in refused');
    return { ok: false, throttled: t };
  }

  private async failed(account: string, client: string, username: string, address: string): Promise<void> {
    const window = this.settings.window_s * 1000;
    const now = this.now();
    const [a, c] = await Promise.all([this.store.addLoginFailure(account, now, window), this.store.addLoginFailure(client, now, window)]);
    this.metrics.logins.inc({ result: 'failure' });
    this.logger.info({ username, address, account_failures: a.failures, address_failures: c.failures }, 'console sign-in failed');
    if (a.failures === this.settings.lockout_after) this.lockedOut('account', username, address, a.failures);
    if (c.failures === this.settings.address_lockout_after) this.lockedOut('address', username, address, c.failures);
  }

  private lockedOut(scope: 'account' | 'address', username: string, address: string, failures: number): void {
    this.metrics.lockouts.inc({ scope });
    this.logger.warn({ scope, username, address, failures, lockout_s: this.settings.lockout_s }, `console ${scope} locked after ${failures} failed sign-ins`);
  }
}

const busy = (message: string): Throttled => ({ reason: 'busy', retryAfterS: 1, message });

/** IPv4 as it is (also when IPv4-mapped); IPv6 by its /64, which one client usually holds whole. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** At most `limit` tasks at once, `queue` waiting; past that a task is not run. */
class Semaphore {
  active = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly queue: number,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  async run<T>(task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    if (this.active >= this.limit) {
      if (this.waiters.length >= this.queue) return { ran: false };
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.active++;
    }
    try {
      return { ran: true, value: await task() };
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }
}
