/** Reviewers made from an identity provider's claims (approvals.console.oidc), and the sign-in page's options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalsConfig } from '../src/approvals/config.js';
import { claimOf, reviewerFromClaims } from '../src/approvals/console/claims.js';
import { loginPage } from '../src/approvals/console/pages.js';

const oidc = (extra: Record<string, unknown> = {}) => ApprovalsConfig.parse({ console: { oidc: { issuer: 'https://idp.example.com', client_id: 'gk', ...extra } } }).console.oidc!;
const base = { sub: 'u1', email: 'priya@acme.example', email_verified: true, name: 'Priya Raman' };

test('roles from groups listed under roles, from a roles claim (Keycloak-style dotted path), and default roles', () => {
  const byGroup = reviewerFromClaims(oidc({ roles: { reviewer: ['GK-Reviewers'] } }), { ...base, groups: ['gk-reviewers', 'procurement-leads'] });
  assert.deepEqual(byGroup, { ok: true, reviewer: { username: 'priya@acme.example', displayName: 'Priya Raman', roles: ['reviewer'], groups: ['gk-reviewers', 'procurement-leads'] } });

  const byRoleClaim = reviewerFromClaims(oidc({ claims: { roles: 'realm_access.roles' }, roles: { admin: ['gk-admin'] } }), { ...base, realm_access: { roles: ['auditor', 'gk-admin', 'offline_access'] } });
  assert.ok(byRoleClaim.ok);
  assert.deepEqual(byRoleClaim.ok && byRoleClaim.reviewer.roles, ['auditor', 'admin']);

  const byDefault = reviewerFromClaims(oidc({ default_roles: ['auditor'] }), base);
  assert.deepEqual(byDefault.ok && byDefault.reviewer.roles, ['auditor']);
});

test('groups renamed by the map, unmapped ones dropped with only_mapped; a space-separated claim is a list', () => {
  const r = reviewerFromClaims(oidc({ default_roles: ['reviewer'], groups: { map: { '/procurement/leads': 'procurement-leads' }, only_mapped: true } }), { ...base, groups: '/procurement/leads /finance' });
  assert.deepEqual(r.ok && r.reviewer.groups, ['procurement-leads']);
});

test('a claim name that is itself a key wins over a dotted path (namespaced claims)', () => {
  assert.deepEqual(claimOf({ 'https://acme.example/groups': ['a'] }, 'https://acme.example/groups'), ['a']);
  assert.equal(claimOf({ a: { b: 'x' } }, 'a.b'), 'x');
  assert.equal(claimOf({ a: 'flat' }, 'a.b'), undefined);
});

test('refused: no username claim, an unusable identity, an unverified address, no role', () => {
  const config = oidc({ roles: { reviewer: ['r'] } });
  const problem = (claims: Record<string, unknown>, c = config) => {
    const r = reviewerFromClaims(c, claims);
    return r.ok ? 'ok' : r.problem;
  };
  assert.match(problem({ sub: 'u1' }), /no "email" claim/);
  assert.match(problem({ ...base, email: 'dаna@acme.example', groups: ['r'] }), /mixes letters of several scripts/);
  assert.match(problem({ ...base, email_verified: false, groups: ['r'] }), /has not verified the e-mail address/);
  assert.equal(problem({ ...base, email_verified: false, groups: ['r'] }, oidc({ roles: { reviewer: ['r'] }, require_verified_email: false })), 'ok');
  assert.match(problem({ ...base, groups: ['x'] }), /has no console role: none of \["x"\]/);
  assert.match(problem({ ...base, preferred_username: 'priya' }, oidc({ claims: { username: 'preferred_username' }, roles: { reviewer: ['r'] } })), /no group or role claim/);
});

test('the sign-in page offers single sign-on, local accounts, or both', () => {
  const sso = { sso: { label: 'Sign in with Acme SSO' } };
  const onlySso = loginPage(undefined, '/console/requests/1', { local: false, ...sso }).text;
  assert.match(onlySso, /href="\/console\/oidc\/login\?next=%2Fconsole%2Frequests%2F1">Sign in with Acme SSO</);
  assert.doesNotMatch(onlySso, /type="password"/);
  const both = loginPage(undefined, '/console', { local: true, ...sso }).text;
  assert.match(both, /data-sso/);
  assert.match(both, /type="password"/);
  assert.doesNotMatch(loginPage(undefined, '/console', { local: true }).text, /data-sso/);
});

test('configuration problems name their path', () => {
  const bad = ApprovalsConfig.safeParse({ console: { oidc: { issuer: 'not a url', client_id: '', client_secret: { env: 'no spaces allowed' }, default_roles: ['boss'] } } });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
  assert.deepEqual(paths, ['console.oidc.client_id', 'console.oidc.client_secret.env', 'console.oidc.default_roles.0', 'console.oidc.issuer']);
});

test("the approvals README's single sign-on example is a valid configuration", async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const readme = readFileSync(new URL('../src/approvals/README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Single sign-on'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
  const config = ApprovalsConfig.parse((parse(yaml) as { approvals: unknown }).approvals).console.oidc!;
  const r = reviewerFromClaims(config, { ...base, realm_access: { roles: ['gatekeeper-reviewers'] }, groups: ['/procurement/leads'] });
  assert.deepEqual(r.ok && [r.reviewer.roles, r.reviewer.groups], [['reviewer'], ['procurement-leads']]);
});
