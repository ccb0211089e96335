/**
 * The `approvals:` section of gatekeeper.yaml. The gatekeeper's own schema leaves the section open; this plug-in
 * validates it and reports problems with their path, like the rest of the configuration.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { identityConflicts } from '../identity.js';

const Mode = z.enum(['hold', 'async']);

/** A URL given inline or, when it is itself a secret (Teams/Slack webhook URLs are), named by environment variable. */
const UrlRef = z.union([z.url(), z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') })]);

const Account = z.strictObject({
  username: z.string().min(1).regex(/^[\p{L}\p{M}\p{N}._@+-]+$/u, 'letters, digits and . _ @ + - only'),
  password_hash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, 'must be a scrypt hash (see `gatekeeper approvals hash-password`)'),
  roles: z.array(z.enum(['reviewer', 'auditor', 'admin'])).min(1),
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
    .strictObject({ openai: Mode.default('hold'), api: Mode.default('hold'), decision: Mode.default('async'), mcp: Mode.default('hold'), sandbox: Mode.default('hold') })
    .prefault({}),
  console: z
    .strictObject({
      /** Where reviewers reach the console (used in notice links); defaults to the listen address. */
      public_url: z.url().optional(),
      session_ttl_s: z.number().int().positive().default(8 * 3600),
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
        .array(z.strictObject({ url: UrlRef, secret_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }))
        .default([]),
      attempts: z.number().int().positive().default(5),
      backoff_ms: z.number().int().positive().default(1000),
      timeout_ms: z.number().int().positive().default(5000),
    })
    .default({ teams: [], slack: [], webhooks: [], attempts: 5, backoff_ms: 1000, timeout_ms: 5000 }),
});

export type ApprovalsConfig = z.output<typeof ApprovalsConfig>;
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
