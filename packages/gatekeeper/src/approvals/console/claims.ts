/**
 * Who an OpenID Connect sign-in is: the reviewer made from the provider's claims under `approvals.console.oidc`.
 * The username must be usable as an identity (identity.ts: it is compared with agent owners for four eyes and with
 * `approvers.users`), so one that is not is refused rather than altered; claim values are compared as canonical
 * identities when they are mapped to roles and groups.
 */
import { canonicalIdentity, identityProblem } from '../../identity.js';
import type { OidcConfig } from '../config.js';
import type { Reviewer, Role } from '../types.js';

type Claims = Record<string, unknown>;

export type ClaimsResult = { ok: true; reviewer: Reviewer } | { ok: false; problem: string };

const ROLES: Role[] = ['reviewer', 'auditor', 'admin'];

export function reviewerFromClaims(config: OidcConfig, claims: Claims): ClaimsResult {
  const names = config.claims;
  const username = claimOf(claims, names.username);
  if (typeof username !== 'string' || username === '') {
    return { ok: false, problem: `the identity provider sent no "${names.username}" claim to name you by (approvals.console.oidc.claims.username)` };
  }
  const unusable = identityProblem(username);
  if (unusable) return { ok: false, problem: `your ${names.username} ${JSON.stringify(username)} ${unusable}, so it cannot serve as a reviewer identity` };
  if (names.username === 'email' && config.require_verified_email && claims.email_verified !== true) {
    return { ok: false, problem: `the identity provider has not verified the e-mail address ${username} (email_verified is not true)` };
  }
  const groupValues = stringsOf(claimOf(claims, names.groups));
  const roleValues = names.roles ? stringsOf(claimOf(claims, names.roles)) : [];
  const held = new Set([...groupValues, ...roleValues].map(canonicalIdentity));
  const roles = ROLES.filter(
    (role) => config.default_roles.includes(role) || roleValues.some((v) => canonicalIdentity(v) === role) || config.roles[role].some((v) => held.has(canonicalIdentity(v))),
  );
  if (roles.length === 0) {
    const seen = [...groupValues, ...roleValues];
    return { ok: false, problem: `${username} has no console role: ${seen.length ? `none of ${JSON.stringify(seen)}` : 'no group or role claim'} is mapped to reviewer, auditor or admin (approvals.console.oidc.roles)` };
  }
  const display = claimOf(claims, names.display_name);
  return { ok: true, reviewer: { username, displayName: typeof display === 'string' && display.trim() ? display.trim() : username, roles, groups: groupsOf(config, groupValues) } };
}

/** The claim named, or reached by a dotted path (`realm_access.roles`); a name that is itself a key wins (`https://x/groups`). */
export function claimOf(claims: Claims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let at: unknown = claims;
  for (const part of name.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = (at as Claims)[part];
  }
  return at;
}

/** A list claim: an array of strings, or one string of space- or comma-separated values. */
function stringsOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((x) => x !== '');
  return [];
}

/** Approval groups: renamed by `groups.map`, others kept unless `only_mapped`; values unusable as identities are dropped. */
function groupsOf(config: OidcConfig, values: string[]): string[] {
  const map = new Map(Object.entries(config.groups.map).map(([from, to]) => [canonicalIdentity(from), to]));
  const out: string[] = [];
  for (const value of values) {
    const mapped = map.get(canonicalIdentity(value)) ?? (config.groups.only_mapped ? undefined : value);
    if (mapped !== undefined && identityProblem(mapped) === undefined && !out.some((g) => canonicalIdentity(g) === canonicalIdentity(mapped))) out.push(mapped);
  }
  return out;
}
