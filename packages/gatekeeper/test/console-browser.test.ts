/**
 * The reviewer console in a real browser (Debian's chromium driven by playwright-core): a reviewer signs in,
 * watches the $2.4M request arrive in the live queue, reads the policy's reason and the reasoning trace,
 * decides, and the agent's held request completes (or is refused). Screenshots go to test-output/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runStory, type StoryResult } from '../src/demo/agents.js';
import { AGENT_KEYS, startDemo, type DemoWorld } from '../src/demo/world.js';
import type { Approval } from '../src/approvals/types.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../test-output/', import.meta.url).pathname;
let browser: Browser;

// Without the browser (CI installs it: .ci/run) these tests are reported as skipped, naming what is missing.
const NO_BROWSER = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium`;

before(async () => {
  if (NO_BROWSER) return;
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
after(async () => browser?.close());

async function withWorld(fn: (w: DemoWorld, page: Page, dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'gk-console-test-'));
  const world = await startDemo({ dir, port: 0, mode: 'hold', holdTimeoutS: 120 });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const scriptErrors: string[] = [];
  page.on('pageerror', (err) => scriptErrors.push(err.message));
  try {
    await fn(world, page, dir);
    assert.deepEqual(scriptErrors, [], 'the console scripts ran without errors');
  } finally {
    await page.close();
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function story(world: DemoWorld): { done: Promise<StoryResult>; opened: Promise<Approval> } {
  const opened = new Promise<Approval>((r) => world.approvals.once('created', r));
  const done = runStory({ gatekeeperUrl: world.gatekeeperUrl, plannerKey: AGENT_KEYS.planner, buyerKey: AGENT_KEYS.buyer, events: { step() {} } });
  return { done, opened };
}

async function signIn(page: Page, world: DemoWorld, user: string) {
  await page.goto(world.consoleUrl);
  assert.match(page.url(), /\/console\/login/, 'an anonymous visitor is sent to sign in');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', 'wrong');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('.alert.error') ?? '', /Wrong username or password/);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', 'gatekeeper');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-queue]');
}

test('approve in the console: live queue, trace and reason shown, the held order completes, the ledger proof checks in the browser', { skip: NO_BROWSER }, async () => {
  await withWorld(async (world, page) => {
    await page.goto(`${world.consoleUrl}/login`);
    await page.screenshot({ path: join(OUT, 'console-0-sign-in.png') });
    await signIn(page, world, 'priya');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'gk_console')!;
    assert.ok(cookie.httpOnly, 'session cookie is HttpOnly');
    assert.equal(cookie.sameSite, 'Strict');
    assert.match(await page.textContent('[data-queue]') ?? '', /Nothing is waiting/);

    // The escalation arrives while the reviewer looks at the queue: it appears without a reload (SSE).
    const { done, opened } = story(world);
    const approval = await opened;
    const row = page.locator(`tr[data-href="/console/requests/${approval.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.match(await row.textContent() ?? '', /\$2,400,000\.00/);
    assert.equal(await page.textContent('[data-pending-count]'), '1');
    await page.screenshot({ path: join(OUT, 'console-1-queue.png') });

    await row.click();
    await page.waitForSelector('[data-decide]');
    assert.equal((await page.textContent('[data-amount]'))?.trim(), '$2,400,000.00');
    assert.match(await page.textContent('[data-reasons]') ?? '', /USD 2400000 is above the 1000000 limit agent buyer may commit on its own/);
    const trace = (await page.textContent('[data-trace]')) ?? '';
    assert.match(trace, /planner\s*→\s*buyer/);
    assert.match(trace, /over my \$1,000,000 authorised limit/, "the buyer's reasoning is in the trace");
    assert.match(trace, /Q3 forecast 1500 coils/, "the planner's hand-off is in the trace");
    assert.match(await page.textContent('.chain-list') ?? '', /planner[\s\S]*buyer/);
    await page.screenshot({ path: join(OUT, 'console-2-request.png') });
    await page.screenshot({ path: join(OUT, 'console-2-request-full.png'), fullPage: true });

    await page.fill('textarea[name=comment]', 'Checked with the CFO: a stock-out would stop the Ohio line.');
    await page.click('button[value=approve]');
    await page.waitForSelector('[data-decision-final]');
    assert.match(await page.textContent('.alert.ok') ?? '', /Request approved/);

    // The held request completes; the page shows it without a reload.
    await page.waitForSelector('[data-decision-final] >> text=Carried out', { timeout: 10_000 });
    const result = await done;
    assert.equal(result.order?.status, 201, "the agent's held request completed");
    assert.equal(world.erp.orders.length, 1);
    assert.match(await page.textContent('[data-decision-final]') ?? '', /priya[\s\S]*Checked with the CFO/);
    await page.screenshot({ path: join(OUT, 'console-3-approved.png'), fullPage: true });

    const final = (await world.approvals.get(approval.id))!.final!;
    await page.goto(`${world.consoleUrl}/ledger?q=${final.index}`);
    await page.waitForSelector('[data-ledger-view][data-verified]', { timeout: 10_000 });
    assert.equal(await page.getAttribute('[data-ledger-view]', 'data-verified'), 'true', await page.textContent('[data-checks]') ?? '');
    const checks = (await page.textContent('[data-checks]')) ?? '';
    assert.match(checks, /Inclusion proof .* leads to the checkpoint root/);
    assert.match(checks, /Checkpoint signature verified/);
    assert.match(checks, /Verdict signed by the approval key \(approved\)/);
    await page.screenshot({ path: join(OUT, 'console-4-ledger.png'), fullPage: true });

    // The escalation entry: its reasoning-trace payload is checked against the digest in the leaf.
    await page.click('[data-links] a');
    await page.waitForSelector('[data-ledger-view][data-verified]', { timeout: 10_000 });
    assert.equal(await page.getAttribute('[data-ledger-view]', 'data-verified'), 'true', await page.textContent('[data-checks]') ?? '');
    assert.match(await page.textContent('[data-checks]') ?? '', /Payload "trace" matches the digest committed in the entry/);
    await page.click('details.payload >> text=Payload "trace"');
    assert.match(await page.textContent('[data-ledger-view]') ?? '', /over my \$1,000,000 authorised limit/);
    await page.screenshot({ path: join(OUT, 'console-4-ledger-escalation.png'), fullPage: true });

    await page.goto(`${world.consoleUrl}/history?q=priya`);
    assert.match(await page.textContent('table') ?? '', /Approved · carried out/);
    await page.screenshot({ path: join(OUT, 'console-6-history.png') });
  });
});

test('reject in the console; the owner sees the four-eyes block; the held request is refused', { skip: NO_BROWSER }, async () => {
  await withWorld(async (world, page) => {
    const { done, opened } = story(world);
    const approval = await opened;

    await signIn(page, world, 'dana');
    await page.goto(`${world.consoleUrl}/requests/${approval.id}`);
    assert.equal(await page.locator('[data-decide]').count(), 0, 'the owner gets no approve button');
    assert.match(await page.textContent('.decision') ?? '', /You own agent buyer or an agent that handed it this work: someone else must approve/);
    await page.click('text=Sign out');

    await signIn(page, world, 'priya');
    await page.click(`tr[data-href="/console/requests/${approval.id}"]`);
    await page.waitForSelector('[data-decide]');
    assert.match(await page.textContent('[data-reasons]') ?? '', /above the 1000000 limit/);
    assert.match(await page.textContent('[data-trace]') ?? '', /Placing it as one order/);
    await page.fill('textarea[name=comment]', 'Split the order and get a second quote first.');
    await page.click('button[value=reject]');
    await page.waitForSelector('[data-decision-final]');
    assert.match(await page.textContent('[data-decision-final]') ?? '', /Rejected/);
    const result = await done;
    assert.equal(result.order?.status, 403, "the agent's held request was refused");
    assert.equal(world.erp.orders.length, 0);
    await page.screenshot({ path: join(OUT, 'console-5-rejected.png'), fullPage: true });
  });
});
