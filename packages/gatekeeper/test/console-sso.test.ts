/**
 * Console single sign-on end to end, in Chromium, against a real OpenID Connect provider started here (the
 * certified `oidc-provider`): a reviewer signs in through the provider (authorization code + PKCE), sees the
 * queue, and approves as a reviewer mapped from a group claim; the agents' owner, signed in the same way, is refused
 * by four eyes; sign-out ends the provider's session too. Failed sign-ins say why: no role, unverified address,
 * a provider's refusal, a response of another attempt (state), an ID token of another attempt (nonce).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { hashPassword } from '../src/approvals/accounts.js';
import { KEYS, post, startGatekeeper, type Fixture } from './core/fixture.js';
import { unusedPort } from './support/ports.js';

type Json = Record<string, unknown>;

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../test-output/', import.meta.url).pathname;
const NO_BROWSER = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium`;
const CLIENT_SECRET = 'console-client-secret-for-tests';

/** The identity provider's people: their claims (groups decide roles and approval groups). */
const PEOPLE: Record<string, Json> = {
  priya: { email: 'priya@acme.example', email_verified: true, name: 'Priya Raman', groups: ['procurement-leads', 'console-reviewers'] },
  dana: { email: 'dana@acme.example', email_verified: true, name: 'Dana Whitfield', groups: ['procurement-leads', 'console-reviewers'] },
  omar: { email: 'omar@acme.example', email_verified: true, name: 'Omar Haddad', groups: ['finance'] },
  eve: { email: 'eve@acme.example', email_verified: false, name: 'Eve', groups: ['console-reviewers'] },
  lee: { email: 'lee@acme.example', email_verified: true, name: 'Lee', groups: ['console-reviewers'] },
};

describe('console single sign-on with OpenID Connect', { skip: NO_BROWSER }, () => {
  let browser: Browser;
  let idp: Server;
  let fx: Fixture;
  let console_: string;
  let approvalId: string;
  let issuer: string;

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    const gkPort = await unusedPort();
    const gkUrl = `http://127.0.0.1:${gkPort}`;
    let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, s) => s.end();
    idp = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'gatekeeper-console',
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${gkUrl}/console/oidc/callback`],
          post_logout_redirect_uris: [`${gkUrl}/console/login`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      async findAccount(_ctx: unknown, id: string) {
        const person = PEOPLE[id];
        return person ? { accountId: id, claims: async () => ({ sub: `idp|${id}`, ...person }) } : undefined;
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
      scopes: ['openid', 'email', 'profile', 'groups'],
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
      cookies: { keys: ['idp-cookie-key-for-tests'] },
      jwks: { keys: [{ ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), kid: 'test', alg: 'RS256', use: 'sig' }] },
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    });
    handler = provider.callback();
    process.env.TEST_OIDC_SECRET = CLIENT_SECRET;
    fx = await startGatekeeper({
      config: {
        listen: `127.0.0.1:${gkPort}`,
        approvals: {
          database: ':memory:',
          signing_key_file: './approval-key.pem',
          modes: { decision: 'async' },
          // A local account for a small setup beside single sign-on: lee must not be two reviewers at once.
          accounts: [{ username: 'lee', password_hash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }), roles: ['reviewer'] }],
          console: {
            oidc: {
              issuer,
              client_id: 'gatekeeper-console',
              client_secret: { env: 'TEST_OIDC_SECRET' },
              scopes: ['openid', 'email', 'profile', 'groups'],
              label: 'Sign in with Acme SSO',
              roles: { reviewer: ['console-reviewers'], auditor: ['audit'] },
            },
          },
        },
      },
    });
    console_ = `${fx.url}/console`;
    // The buyer (owned by dana) asks to place a $2.4M order: the policy escalates it to procurement-leads.
    const asked = await post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total: 2_400_000 } } }, KEYS.buyer);
    assert.equal(asked.body.decision.outcome, 'escalate', JSON.stringify(asked.body));
    approvalId = asked.body.approval.id;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close();
    await fx?.close();
    idp?.closeAllConnections();
    await new Promise<void>((r) => (idp ? idp.close(() => r()) : r()));
    delete process.env.TEST_OIDC_SECRET;
  });

  async function context(): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    // The provider's development pages import a web font; nothing here reaches the internet.
    await ctx.route(/fonts\.googleapis\.com/, (r) => r.abort());
    return { ctx, page: await ctx.newPage() };
  }

  /** The provider's development sign-in and consent pages. */
  async function signInAtProvider(page: Page, who: string): Promise<void> {
    await page.click('[data-sso]');
    await page.waitForSelector('input[name=login]');
    await page.fill('input[name=login]', who);
    await page.fill('input[name=password]', 'any');
    await page.click('button[type=submit]');
    await page.waitForSelector('button[type=submit]:has-text("Continue"), [data-sign-in-error], [data-queue], [data-signed-in]');
    if (await page.$('button[type=submit]:has-text("Continue")')) await page.click('button[type=submit]:has-text("Continue")');
  }

  test('a reviewer signs in through the provider, sees the queue and approves; the ledger names her', async () => {
    const { ctx, page } = await context();
    try {
      await page.goto(console_);
      assert.match(page.url(), /\/console\/login/);
      assert.equal((await page.textContent('[data-sso]'))?.trim(), 'Sign in with Acme SSO');
      assert.ok(await page.$('input[name=password]'), 'local accounts are offered beside it');
      await page.screenshot({ path: join(OUT, 'console-sso-0-sign-in.png') });
      await signInAtProvider(page, 'priya');
      await page.waitForSelector('[data-queue]');
      const cookie = (await ctx.cookies()).find((c) => c.name === 'gk_console')!;
      assert.ok(cookie.httpOnly);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal((await ctx.cookies()).find((c) => c.name === 'gk_oidc'), undefined, 'the sign-in attempt cookie is gone');
      assert.match((await page.textContent('.account')) ?? '', /Priya Raman[\s\S]*reviewer/);
      const row = page.locator(`tr[data-href="/console/requests/${approvalId}"]`);
      await row.waitFor();
      await page.screenshot({ path: join(OUT, 'console-sso-1-queue.png') });
      await row.click();
      await page.waitForSelector('[data-decide]');
      await page.fill('textarea[name=comment]', 'Signed in with SSO; checked.');
      await page.click('button[value=approve]');
      await page.waitForSelector('[data-decision-final]');
      assert.match((await page.textContent('.alert.ok')) ?? '', /Request approved/);
      await page.screenshot({ path: join(OUT, 'console-sso-2-approved.png'), fullPage: true });
    } finally {
      await ctx.close();
    }
    const granted = await findRecord('approval.granted');
    assert.deepEqual(((granted.data as Json).statement as Json).reviewers, ['priya@acme.example']);
  });

  test("the agents' owner signs in the same way and four eyes refuses her approval; sign-out ends the provider session", async () => {
    // A second escalation, still pending, for dana to look at.
    const asked = await post(`${fx.url}/v1/decisions`, { action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total: 1_500_000 } } }, KEYS.buyer);
    const id = asked.body.approval.id as string;
    const { ctx, page } = await context();
    try {
      await page.goto(`${console_}/requests/${id}`);
      await signInAtProvider(page, 'dana');
      await page.waitForURL(new RegExp(`/console/requests/${id}$`));
      assert.match((await page.textContent('main')) ?? '', /You own agent buyer or an agent that handed it this work: someone else must approve its request \(four eyes\)/);
      await page.screenshot({ path: join(OUT, 'console-sso-3-four-eyes.png'), fullPage: true });
      const tried = await page.evaluate(async (url) => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ verdict: 'approve', comment: 'mine' }) });
        return { status: res.status, body: await res.json() };
      }, `${fx.url}/console/api/approvals/${id}/decision`);
      assert.equal(tried.status, 403);
      assert.match(tried.body.error.message, /dana@acme\.example owns agent buyer and cannot approve its request \(four eyes\)/);

      await page.click('form[action="/console/logout"] button');
      await page.waitForSelector('button[value=yes]');
      await page.click('button[value=yes]');
      await page.waitForURL(/\/console\/login$/);
      await page.goto(console_);
      assert.match(page.url(), /\/console\/login/, 'signed out of the console');
      // The provider asks for credentials again: its session ended too.
      await page.click('[data-sso]');
      await page.waitForSelector('input[name=login]');
    } finally {
      await ctx.close();
    }
  });

  test('sign-ins the console refuses say why', async () => {
    const { ctx, page } = await context();
    try {
      await page.goto(console_);
      await signInAtProvider(page, 'omar');
      await page.waitForSelector('[data-sign-in-error]');
      assert.match((await page.textContent('[data-sign-in-error]')) ?? '', /omar@acme\.example has no console role: none of \["finance"\] is mapped to reviewer, auditor or admin/);
      await page.screenshot({ path: join(OUT, 'console-sso-4-no-role.png') });
    } finally {
      await ctx.close();
    }
    const second = await context();
    try {
      await second.page.goto(console_);
      await signInAtProvider(second.page, 'eve');
      await second.page.waitForSelector('[data-sign-in-error]');
      assert.match((await second.page.textContent('[data-sign-in-error]')) ?? '', /has not verified the e-mail address eve@acme\.example/);
    } finally {
      await second.ctx.close();
    }
    const third = await context();
    try {
      await third.page.goto(console_);
      await signInAtProvider(third.page, 'lee');
      await third.page.waitForSelector('[data-sign-in-error]');
      assert.match((await third.page.textContent('[data-sign-in-error]')) ?? '', /lee@acme\.example may be the same person as the local account "lee"; remove one of them/);
    } finally {
      await third.ctx.close();
    }
  });

  test('an ID token issued for another attempt (nonce) is refused', async () => {
    const { ctx, page } = await context();
    try {
      // Whoever changes the nonce on the way to the provider gets a token the console does not accept.
      await ctx.route(/\/console\/oidc\/login/, async (route) => {
        const response = await route.fetch({ maxRedirects: 0 });
        const location = new URL(response.headers().location!);
        location.searchParams.set('nonce', 'a-nonce-from-elsewhere');
        await route.fulfill({ response, headers: { ...response.headers(), location: location.href } });
      });
      await page.goto(console_);
      await signInAtProvider(page, 'priya');
      await page.waitForSelector('[data-sign-in-error]');
      assert.match((await page.textContent('[data-sign-in-error]')) ?? '', /nonce does not match/);
      assert.equal((await ctx.cookies()).find((c) => c.name === 'gk_console'), undefined, 'no session');
    } finally {
      await ctx.close();
    }
  });

  test('a response to another attempt (state), no attempt at all, and a provider refusal', async () => {
    const start = await fetch(`${console_}/oidc/login?next=/console`, { redirect: 'manual' });
    assert.equal(start.status, 303);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authorize.searchParams.get('state') && authorize.searchParams.get('nonce') && authorize.searchParams.get('code_challenge'));
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    assert.match(start.headers.get('set-cookie')!, /HttpOnly; SameSite=Lax/);

    const wrongState = await fetch(`${console_}/oidc/callback?code=abc&state=not-this-one&iss=${encodeURIComponent(issuer)}`, { headers: { cookie } });
    assert.equal(wrongState.status, 400);
    assert.match(await wrongState.text(), /does not belong to this browser&#39;s sign-in attempt \(state does not match\)/);

    const noAttempt = await fetch(`${console_}/oidc/callback?code=abc&state=x`);
    assert.equal(noAttempt.status, 400);
    assert.match(await noAttempt.text(), /this browser has no sign-in in progress/);

    const refused = await fetch(`${console_}/oidc/callback?error=access_denied&error_description=user+cancelled&state=${authorize.searchParams.get('state')}`, { headers: { cookie } });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /the identity provider refused the sign-in: access_denied \(user cancelled\)/);
  });

  async function findRecord(type: string): Promise<Json> {
    const ledger = fx.gk.deps.ledger!;
    await ledger.checkpointNow();
    for (let i = ledger.size() - 1; i >= 0; i--) {
      const r = (await ledger.getRecord(i)) as unknown as Json;
      if (r.type === type) return r;
    }
    throw new Error(`no ${type} record`);
  }
});
