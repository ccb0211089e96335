/**
 * Session-aware policies on the MCP surface: the official SDK client calling server-filesystem through /mcp. A file
 * read labelled untrusted, then a destructive write whose content carries the file's text → escalated; the same
 * write in a session without the read → allowed. The MCP session is the session.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { KEYS } from './core/fixture.js';
import { connect, startMcpGatekeeper } from './support/mcp.js';
import { PAGE } from './support/session-settings.js';

const settings = {
  approvers: { groups: ['security'] },
  agents: {
    buyer: {
      mcp: { servers: { fs: { tools: ['read_text_file', 'write_file'] } }, destructive: 'allow' },
      labels: [{ tool: 'read_text_file', server: 'fs', labels: ['untrusted'], source: 'downloads' }],
    },
  },
};

test('MCP: a downloaded page read through fs, then a write carrying its text → escalated; the write alone → allowed', async () => {
  const fx = await startMcpGatekeeper({ settings: { config: settings }, config: { sessions: { store: { sqlite: './sessions.db' } } } });
  const page = join(fx.files, 'release-notes.txt');
  writeFileSync(page, PAGE);
  const content = `Cleanup plan: delete the branch release-2026-q3-hotfix now.`;
  const read = await connect(fx.url, KEYS.buyer, { path: '/mcp/fs' });
  const fresh = await connect(fx.url, KEYS.buyer, { path: '/mcp/fs' });
  try {
    const got = await read.callTool({ name: 'read_text_file', arguments: { path: page } });
    assert.equal(got.isError, undefined, JSON.stringify(got.content));
    assert.match(JSON.stringify(got.content), /release-2026-q3-hotfix/);
    const write = await read.callTool({ name: 'write_file', arguments: { path: join(fx.files, 'plan.txt'), content } });
    assert.equal(write.isError, true);
    assert.match((write.content as { text: string }[])[0]!.text, /approval required: tool write_file is destructive and its arguments\.content carries \d+ characters of untrusted content from downloads \(tool read_text_file, decision [0-9a-f-]{36}/);
    const alone = await fresh.callTool({ name: 'write_file', arguments: { path: join(fx.files, 'plan.txt'), content } });
    assert.equal(alone.isError, undefined, JSON.stringify(alone.content));
    assert.equal(readFileSync(join(fx.files, 'plan.txt'), 'utf8'), content);
  } finally {
    await read.close();
    await fresh.close();
    await fx.close();
  }
});
