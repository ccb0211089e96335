/**
 * The `approvals:` section of gatekeeper.yaml. The gatekeeper's own schema leaves the section open; this plug-in
 * validates it and reports problems with their path, like the rest of the configuration.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { identityConflicts } from '../identity.js';

const Mode = z.enum(['hold', 'async']);

/** A URL given inline or, when it is itself a secret (Teams/Slack webhook URLs are), named by environment variable. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UrlRef = z.union([z.url(), z.strictObject({ env: z.string().regex(ENV_NAME, 'must be an environment variable name') })]);
const Role = z.enum(['reviewer', 'auditor', 'admin']);

/**
 * Sign-in with an OpenID Connect provider (authorization code + PKCE, openid-client). Who the reviewer is comes
 * from the ID token's (and userinfo's) claims: the username from `claims.username`, roles from the roles claim or
 * from groups listed under `roles`, approval groups from the groups claim.
 */
const Oidc = z.strictObject({
  /** The provider's issuer identifier; its /.well-known/openid-configuration is read at the first sign-in. */
  issuer: z.url(),
  client_id: z.string().min(1),
  /** A confidential client's secret, from the environment (client_secret_basic); without it a public client. */
  client_secret: z.strictObject({ env: z.string().regex(ENV_NAME, 'must be an environment variable name') }).optional(),
  /** Where the provider sends the browser back; default <console URL>/oidc/callback. Register it with the provider. */
  redirect_uri: z.url().optional(),
  /** Where the provider sends the browser after signing out; default <console URL>/login. */
  post_logout_redirect_uri: z.url().optional(),
  scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']),
  /** The sign-in button's text. */
  label: z.string().min(1).default('Sign in with SSO'),
  /** Also read the userinfo endpoint's claims (many providers put groups only there). */
  userinfo: z.boolean().default(true),
  /** Claim names (a dotted path reaches into objects, e.g. realm_access.roles). */
  claims: z
    .strictObject({
      username: z.string().min(1).default('email'),
      display_name: z.string().min(1).default('name'),
      groups: z.string().min(1).default('groups'),
      roles: z.string().min(1).optional(),
    })
    .prefault({}),
  /** With the username taken from `email`, refuse sign-in unless the provider says the address is verified. */
  require_verified_email: z.boolean().default(true),
  /** The claim values (groups, or values of the roles claim) that grant each console role. */
  roles: z.strictObject({ reviewer: z.array(z.string()).default([]), auditor: z.array(z.string()).default([]), admin: z.array(z.string()).default([]) }).prefault({}),
  /** Roles every signed-in user has; without a role from here or the claims, sign-in is refused. */
  default_roles: z.array(Role).default([]),
  /** Approval groups (decisions' `approvers.groups`) from the groups claim: renamed by `map`, only mapped ones with `only_mapped`. */
  groups: z.strictObject({ map: z.record(z.string(), z.string()).default({}), only_mapped: z.boolean().default(false) }).prefault({}),
  /** Sign-out also ends the provider's session (its end_session_endpoint), or only the console's. */
  logout: z.enum(['provider', 'local']).default('provider'),
  timeout_ms: z.number().int().positive().default(10_000),
});

const Account = z.strictObject({
  username: z.string().min(1).regex(/^[\p{L}\p{M}\p{N}._@+-]+$/u, 'letters, digits and . _ @ + - only'),
  password_hash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, 'must be a scrypt hash (see `gatekeeper approvals hash-password`)'),
  roles: z.array(Role).min(1),
  groups: z.array(z.string()).default([]),
  display_name: z.string().optional(),
});

export const ApprovalsConfig = z.strictObject({
  /** SQLite file for approvals (relative paths are relative to the configuration file). */
  database: z.string().min(1).default('approvals.db'),
  /** Ed25519 PEM key that signs verdicts; created on first start when missing. */
  signing_key_file: z.string().min(1).default('approval-key.pem'),
  expiry_s: z.number().int().positive().default(900),
  hold_timeout_s: z.number().int().positive().default(120),
  retry_after_s: z.number().int().positive().default(5),
  /** What the agent experiences on each surface: its request held open, or an HTTP 202 to retry with. */
  modes: z
    .strictObject({ openai: Mode.default('hold'), anthropic: Mode.default('hold'), api: Mode.default('hold'), decision: Mode.default('async'), mcp: Mode.default('hold'), sandbox: Mode.default('hold') })
    .prefault({}),
  console: z
    .strictObject({
      /** Where reviewers reach the console (used in notice links); defaults to the listen address. */
      public_url: z.url().optional(),
      session_ttl_s: z.number().int().positive().default(8 * 3600),
      /** Single sign-on with OpenID Connect, beside or instead of local accounts. */
      oidc: Oidc.optional(),
      /** Sign-in throttling (console/throttle.ts). */
      login: z
        .strictObject({
          free_failures: z.number().int().positive().default(3),
          backoff_base_ms: z.number().int().positive().default(1000),
          backoff_max_ms: z.number().int().positive().default(300_000),
          lockout_after: z.number().int().positive().default(10),
          lockout_s: z.number().int().positive().default(900),
          address_free_failures: z.number().int().positive().default(10),
          address_lockout_after: z.number().int().positive().default(100),
          window_s: z.number().int().positive().default(3600),
          max_concurrent_verifications: z.number().int().positive().default(1),
          max_waiting_verifications: z.number().int().nonnegative().default(8),
        })
        .prefault({}),
    })
    .prefault({}),
  accounts: z
    .array(Account)
    .default([])
    .superRefine((accounts, ctx) => {
      // One person, one account: usernames are distinct canonical identities, and so are each account's groups.
      const names = accounts.map((a, i) => ({ path: [i, 'username'], value: a.username }));
      for (const p of identityConflicts(names, true, 'approvals.accounts')) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
      accounts.forEach((a, i) => {
        const groups = a.groups.map((g, j) => ({ path: [i, 'groups', j], value: g }));
        for (const p of identityConflicts(groups, true, 'approvals.accounts')) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
      });
    }),
  redact: z.strictObject({ patterns: z.array(z.string()).default([]) }).default({ patterns: [] }),
  notices: z
    .strictObject({
      teams: z.array(z.strictObject({ url: UrlRef })).default([]),
      slack: z.array(z.strictObject({ url: UrlRef })).default([]),
      webhooks: z
        .array(z.strictObject({ url: UrlRef, secret_env: z.string().regex(ENV_NAME, 'must be an environment variable name') }))
        .default([]),
      attempts: z.number().int().positive().default(5),
      backoff_ms: z.number().int().positive().default(1000),
      timeout_ms: z.number().int().positive().default(5000),
    })
    .default({ teams: [], slack: [], webhooks: [], attempts: 5, backoff_ms: 1000, timeout_ms: 5000 }),
});

export type ApprovalsConfig = z.output<typeof ApprovalsConfig>;
export type OidcConfig = z.output<typeof Oidc>;
export type ApprovalMode = z.output<typeof Mode>;
export type UrlRef = z.output<typeof UrlRef>;

/** Validates the section; errors name the path of each problem under `approvals`. */
export function parseApprovalsConfig(raw: unknown, baseDir: string): ApprovalsConfig {
  const parsed = ApprovalsConfig.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `approvals.${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid approvals configuration:\n  ${problems.join('\n  ')}`);
  }
  const c = parsed.data;
  const at = (p: string) => (p === ':memory:' || isAbsolute(p) ? p : resolve(baseDir, p));
  return { ...c, database: at(c.database), signing_key_file: at(c.signing_key_file) };
}

export function resolveUrl(ref: UrlRef, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof ref === 'string') return ref;
  const value = env[ref.env];
  if (!value) throw new Error(`environment variable ${ref.env} (a notice URL) is not set`);
  return value;
}
