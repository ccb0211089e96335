/** `gatekeeper demo mcp --auto approve|reject` as tests: the MCP story, unattended, must come out as designed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMcpDemo } from '../src/demo/mcp.js';
import { demoLedgerRecords } from './support/ledger.js';

async function demo(auto: 'approve' | 'reject') {
  const dir = mkdtempSync(join(tmpdir(), 'gk-demo-mcp-test-'));
  const lines: string[] = [];
  try {
    const outcome = await runMcpDemo({ auto, dir, port: 0, print: (l) => lines.push(l) });
    const records = await demoLedgerRecords(dir);
    return { outcome, output: lines.join('\n'), records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const calls = (records: Awaited<ReturnType<typeof demo>>['records']) =>
  records
    .filter((r) => r.type === 'decision' && (r.data as { kind?: string }).kind === 'mcp.tool_call')
    .map((r) => `${(r.data as { target: { tool: string } }).target.tool}:${r.outcome}`);

test('demo mcp --auto approve: tools/list filtered, a read allowed, move_file denied, write_file held, the owner refused, approved once, the ledger verifies', async () => {
  const { outcome, output, records } = await demo('approve');
  assert.deepEqual(outcome.problems, [], output);
  assert.equal(outcome.approval?.status, 'approved');
  assert.ok(outcome.approval?.consumedAt);
  assert.equal(outcome.approval?.surface, 'mcp');
  assert.match(output, /tools\/list: files__read_text_file, files__write_file, files__list_directory\n/);
  assert.match(output, /is refused: .*MCP tool move_file on server files is not allowed for agent buyer/);
  assert.match(output, /is told: Waiting for a human reviewer/);
  assert.match(output, /dana \(owns the agents\) tries to approve: HTTP 403/);
  assert.match(output, /ledger file verified offline/);
  assert.deepEqual(calls(records), ['read_text_file:allow', 'move_file:deny', 'write_file:escalate']);
  assert.equal(records.filter((r) => r.type === 'outcome').length >= 2, true, 'the read and the approved write have outcomes');
});

test('demo mcp --auto reject: the write never reaches the server, the rejection is signed', async () => {
  const { outcome, output } = await demo('reject');
  assert.deepEqual(outcome.problems, [], output);
  assert.equal(outcome.approval?.status, 'rejected');
  assert.match(output, /is refused: .*rejected by priya/);
  assert.match(output, /order-draft\.md not written/);
  assert.match(output, /verdict entry #\d+ \(approval\.rejected, by priya\)/);
});
