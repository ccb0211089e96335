/**
 * Local reviewer accounts. Passwords are stored only as scrypt hashes in the configuration, encoded as
 * `scrypt$N$r$p$<salt>$<hash>` (base64url) so the cost parameters travel with the hash.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { canonicalIdentity, maybeSamePerson } from '../identity.js';
import type { Reviewer, Role } from './types.js';

export interface AccountConfig {
  username: string;
  password_hash: string;
  roles: Role[];
  groups?: string[];
  display_name?: string;
}

const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, KEY_LENGTH, { ...options, maxmem: 256 * options.N! * options.r! }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, cost = { N: 16384, r: 8, p: 1 }): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new Error('password hash is not in scrypt$N$r$p$salt$hash form');
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await scrypt(password, Buffer.from(parts[4]!, 'base64url'), { N, r, p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Accounts by canonical username (identity.ts): "Rita", "ｒｉｔａ" and "rita" sign in to the same account. */
export class Accounts {
  private readonly byName = new Map<string, AccountConfig>();

  constructor(accounts: AccountConfig[]) {
    for (const a of accounts) {
      const key = canonicalIdentity(a.username);
      if (this.byName.has(key)) throw new Error(`approvals.accounts: duplicate username '${a.username}' (the same identity as '${this.byName.get(key)!.username}')`);
      this.byName.set(key, a);
    }
  }

  /** The reviewer for these credentials, or undefined; unknown users cost the same scrypt as wrong passwords. */
  async authenticate(username: string, password: string): Promise<Reviewer | undefined> {
    const account = this.byName.get(canonicalIdentity(username));
    const ok = await verifyPassword(password, account?.password_hash ?? DUMMY_HASH);
    return ok && account ? toReviewer(account) : undefined;
  }

  /** The local account that is, or may be, the same person as `identity` (identity.ts `maybeSamePerson`). */
  samePersonAs(identity: string): string | undefined {
    return [...this.byName.values()].find((a) => maybeSamePerson(a.username, identity))?.username;
  }

  get(username: string): Reviewer | undefined {
    const account = this.byName.get(canonicalIdentity(username));
    return account ? toReviewer(account) : undefined;
  }
}

// A fixed hash of a random password, so a login for an unknown user does the same work as for a known one.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function toReviewer(a: AccountConfig): Reviewer {
  return { username: a.username, displayName: a.display_name ?? a.username, roles: a.roles, groups: a.groups ?? [] };
}

export function canDecide(r: Reviewer): boolean {
  return r.roles.includes('reviewer') || r.roles.includes('admin');
}
