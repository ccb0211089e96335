/**
 * examples/mcp served as it is (a copy beside the repo's policies and node_modules, as a checkout has them): the
 * official SDK client as the researcher sees the allowed tools only, reads a file, is refused a tool it may not
 * call (the file stays), and its write_file is held until the example's reviewer approves it.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { generateKey } from '@oagf/ledger';
import { approvalsModule } from '../src/approvals/module.js';
import type { ApprovalService } from '../src/approvals/service.js';
import { loadConfigFile } from '../src/config/load.js';
import { buildServer, MODULES } from '../src/server.js';
import { connect, waitFor } from './support/mcp.js';
import { pino } from 'pino';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const rosa = { username: 'rosa', displayName: 'Rosa', roles: ['reviewer' as const], groups: ['data-owners'] };

test('examples/mcp: tools/list filtered, a read allowed, move_file denied, write_file held until approved', async () => {
  const root = mkdtempSync(join(tmpdir(), 'gk-mcp-example-'));
  for (const name of ['policies', 'node_modules']) symlinkSync(join(ROOT, name), join(root, name));
  const dir = join(root, 'examples/mcp');
  cpSync(join(ROOT, 'examples/mcp'), dir, { recursive: true, filter: (src) => !/\.db(-wal|-shm)?$|\.skey$|\.pem$/.test(src) });
  writeFileSync(join(dir, 'ledger.skey'), generateKey('gatekeeper.local/ledger').skey);
  const loaded = loadConfigFile(join(dir, 'gatekeeper.yaml'));
  loaded.config.listen = { ...loaded.config.listen, port: 0 };
  let approvals!: ApprovalService;
  const modules = MODULES.map((m) => (m.name === 'approvals' ? approvalsModule({ onReady: (s) => (approvals = s) }) : m));
  const gk = await buildServer(loaded, { modules, logger: pino({ level: 'silent' }) });
  const url = await gk.listen();
  const agent = await connect(url, 'researcher-demo-key');
  try {
    const names = (await agent.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['everything__echo', 'everything__get-sum', 'fs__list_directory', 'fs__read_text_file', 'fs__search_files', 'fs__write_file']);

    const read = await agent.callTool({ name: 'fs__read_text_file', arguments: { path: 'notes.md' } });
    assert.match((read.content as { text: string }[])[0]!.text, /^# Research notes/);
    assert.deepEqual((await agent.callTool({ name: 'everything__echo', arguments: { message: 'hi' } })).content, [{ type: 'text', text: 'Echo: hi' }]);

    const moved = await agent.callTool({ name: 'fs__move_file', arguments: { source: 'notes.md', destination: 'old.md' } });
    assert.equal(moved.isError, true);
    assert.match((moved.content as { text: string }[])[0]!.text, /MCP tool move_file on server fs is not allowed for agent researcher/);
    assert.ok(existsSync(join(dir, 'shared/notes.md')) && !existsSync(join(dir, 'shared/old.md')), 'the denied move never reached the server');

    const writing = agent.callTool({ name: 'fs__write_file', arguments: { path: 'summary.md', content: 'three suppliers' } });
    writing.catch(() => {});
    await waitFor(async () => (await approvals.list({ status: ['pending'] })).length === 1);
    const [pending] = await approvals.list({ status: ['pending'] });
    assert.equal(pending!.summary, 'fs/write_file');
    assert.deepEqual(pending!.required.groups, ['data-owners']);
    assert.equal(existsSync(join(dir, 'shared/summary.md')), false, 'nothing written before the verdict');
    await approvals.decide(pending!.id, rosa, 'approve', 'fine');
    assert.notEqual((await writing).isError, true);
    assert.equal(readFileSync(join(dir, 'shared/summary.md'), 'utf8'), 'three suppliers');
  } finally {
    await agent.close();
    await gk.close();
    rmSync(root, { recursive: true, force: true });
  }
});
