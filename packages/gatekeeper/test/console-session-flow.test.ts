/**
 * The reviewer sees the flow that triggered an escalation: in Debian's chromium (playwright-core), the request page
 * of a post escalated for exfiltration shows the session's earlier read, its `private` label, and which value of
 * the post carries its text. Screenshot: test-output/console-session-flow.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { hashPassword } from '../src/approvals/accounts.js';
import { KEYS, startGatekeeper, startUpstream, type Fixture } from './core/fixture.js';
import { MEMO, SESSION_SETTINGS } from './support/session-settings.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../test-output/', import.meta.url).pathname;
const NO_BROWSER = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium`;

let browser: Browser;
let fx: Fixture;
let apis: Awaited<ReturnType<typeof startUpstream>>;

before(async () => {
  if (NO_BROWSER) return;
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  apis = await startUpstream((c) => (c.url.startsWith('/docs/') ? { json: { id: 7, body: MEMO } } : { json: { ok: true } }));
  fx = await startGatekeeper({
    settings: SESSION_SETTINGS,
    config: {
      apis: { docs: { base_url: `${apis.url}/docs` }, webhooks: { base_url: `${apis.url}/webhooks` } },
      sessions: { store: { sqlite: './sessions.db' } },
      approvals: {
        database: ':memory:',
        signing_key_file: './approval-key.pem',
        modes: { api: 'async' },
        accounts: [{ username: 'lee', password_hash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }), roles: ['reviewer'], groups: ['security'] }],
      },
    },
  });
});
after(async () => {
  await browser?.close();
  await fx?.close();
  await apis?.close();
});

const call = (path: string, body?: unknown) =>
  fetch(`${fx.url}/apis/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${KEYS.buyer}`, 'oagf-session': 's-review', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

test('the request page shows which earlier result, with which label, the escalated action carries', { skip: NO_BROWSER }, async () => {
  assert.equal((await call('docs/documents/7')).status, 200);
  const posted = await call('webhooks/hooks/1', { channel: 'press', text: `For release: ${MEMO}` });
  assert.equal(posted.status, 202);
  const { error } = (await posted.json()) as { error: { approval_id: string } };

  const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${fx.url}/console/login`);
  await page.fill('input[name=username]', 'lee');
  await page.fill('input[name=password]', 'pw');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-queue]');
  await page.goto(`${fx.url}/console/requests/${error.approval_id}`);
  await page.waitForSelector('[data-session-flow]');

  assert.match((await page.textContent('[data-reasons]')) ?? '', /private data from docs GET \/documents\/7 \(read by GET docs \/documents\/7, decision [0-9a-f-]{36} at ledger index \d+\)/);
  const source = page.locator('[data-flow-source]');
  assert.equal(await source.count(), 1, 'one earlier result is marked as the source');
  const sourceText = (await source.textContent()) ?? '';
  assert.match(sourceText, /#\d+\s+GET docs \/documents\/7\s+allow\s+completed\s+private\s+from docs GET \/documents\/7\s+· text found in this action/);
  const index = /#(\d+)/.exec(sourceText)![1];
  assert.equal(await source.locator('a').getAttribute('href'), `/console/ledger?index=${index}`, 'the source links to its ledger entry');
  const flow = (await page.textContent('[data-flow]')) ?? '';
  assert.match(flow, new RegExp(`body\\.text carries \\d+ characters of\\s*private\\s*text from #${index} GET docs /documents/7`));
  assert.equal(await page.locator('[data-flow] .label-chip.private').count(), 1);
  await page.locator('[data-session-flow]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(OUT, 'console-session-flow.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});
