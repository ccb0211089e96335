/**
 * An MCP call in the reviewer console, in a real browser (Debian's chromium through playwright-core): the
 * interactive `gatekeeper demo mcp` holds the buyer's write_file; priya opens it, sees the server, the tool, the
 * arguments and the agent's earlier MCP calls, approves, and the held call completes. Screenshots go to test-output/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { runMcpDemo } from '../src/demo/mcp.js';
import { waitFor } from './support/mcp.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../test-output/', import.meta.url).pathname;
const NO_BROWSER = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium`;
let browser: Browser;

before(async () => {
  if (NO_BROWSER) return;
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
after(async () => browser?.close());

test('an MCP tools/call in the console: server, tool, arguments and the earlier MCP calls of the session shown; approved there, the held call completes', { skip: NO_BROWSER }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gk-console-mcp-'));
  const lines: string[] = [];
  const demo = runMcpDemo({ dir, port: 0, print: (l) => lines.push(l) });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const scriptErrors: string[] = [];
  page.on('pageerror', (err) => scriptErrors.push(err.message));
  try {
    await waitFor(() => lines.some((l) => l.includes('Decide it in the reviewer console')), 60_000);
    const link = /Decide it in the reviewer console: +(\S+)/.exec(lines.join('\n'))![1]!;
    await page.goto(link);
    await page.fill('input[name=username]', 'priya');
    await page.fill('input[name=password]', 'gatekeeper');
    await page.click('button[type=submit]');
    await page.waitForURL(link);
    await page.waitForSelector('[data-decide]');
    const text = (await page.textContent('main')) ?? (await page.textContent('body')) ?? '';
    assert.match(text, /mcp\.tool_call · requested by\s*buyer/);
    assert.match(await page.textContent('[data-reasons]') ?? '', /MCP tool write_file on server files may change or destroy data/);
    const action = (await page.locator('section.card', { hasText: 'The action' }).textContent()) ?? '';
    assert.match(action, /server\s*files/);
    assert.match(action, /tool\s*write_file/);
    assert.match(action, /path\s*\S*order-draft\.md/);
    assert.match(action, /content\s*Order draft: 40,000 M8 bolts/);
    // The trace is the agent's MCP session so far: what it listed, read and was refused before this call.
    const trace = (await page.textContent('[data-trace]')) ?? '';
    assert.match(trace, /mcp\.tools_list\s*allow/);
    assert.match(trace, /files\/read_text_file\s*allow[\s\S]*suppliers\.md/);
    assert.match(trace, /files\/move_file\s*deny/);
    assert.match(trace, /files\/write_file\s*escalate/);
    await page.screenshot({ path: join(OUT, 'console-mcp-request.png'), fullPage: true });

    await page.fill('textarea[name=comment]', 'Draft is fine.');
    await page.click('button[value=approve]');
    await page.waitForSelector('[data-decision-final] >> text=Carried out', { timeout: 15_000 });
    const outcome = await demo;
    assert.deepEqual(outcome.problems, [], lines.join('\n'));
    assert.equal(readFileSync(join(dir, 'share/order-draft.md'), 'utf8').startsWith('Order draft'), true);
    assert.deepEqual(scriptErrors, [], 'the console scripts ran without errors');
  } finally {
    await page.close();
    await demo.catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
