/** `gatekeeper demo --auto approve|reject` as tests: the whole keynote, unattended, must come out as designed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/demo/run.js';
import { demoLedgerRecords } from './support/ledger.js';

async function demo(auto: 'approve' | 'reject', mode: 'hold' | 'async') {
  const dir = mkdtempSync(join(tmpdir(), 'gk-demo-test-'));
  const lines: string[] = [];
  try {
    const outcome = await runDemo({ auto, dir, port: 0, mode, print: (l) => lines.push(l) });
    const records = await demoLedgerRecords(dir);
    return { outcome, output: lines.join('\n'), records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('demo --auto approve (held request): the $2.4M order escalates, the owner is refused, a lead approves, the order is placed once, the ledger verifies', async () => {
  const { outcome, output } = await demo('approve', 'hold');
  assert.deepEqual(outcome.problems, [], output);
  assert.ok(outcome.ok);
  assert.equal(outcome.approval?.status, 'approved');
  assert.ok(outcome.approval?.consumedAt);
  assert.match(output, /ESCALATED: POST erp\/orders · \$2,400,000\.00 by buyer/);
  assert.match(output, /dana \(owns the agents\) tries to approve: HTTP 403/);
  assert.match(output, /Teams channel got Adaptive Card 1\.5/);
  assert.match(output, /HMAC valid/);
  assert.match(output, /approval-key signature valid/);
  assert.match(output, /ledger file verified offline/);
  assert.equal(outcome.story?.order?.status, 201);
  // The trace the reviewer saw includes both agents and the buyer's reasoning.
  const trace = outcome.approval!.trace!;
  assert.deepEqual(trace.chain.map((c) => c.agent), ['planner', 'buyer']);
  assert.ok(trace.steps.some((s) => s.agent === 'buyer' && /over my \$1,000,000 authorised limit/.test(s.reasoning ?? '')));
});

test('demo --auto reject with the asynchronous experience (202, retried with OAGF-Approval): the order never reaches the ERP, the rejection is signed', async () => {
  const { outcome, output, records } = await demo('reject', 'async');
  assert.deepEqual(outcome.problems, [], output);
  assert.equal(outcome.approval?.status, 'rejected');
  assert.equal(outcome.story?.order?.status, 403);
  assert.match(output, /verdict entry #\d+ \(approval\.rejected, by priya\)/);
  assert.match(output, /buyer {3}is told to wait: approval required/);
  // The buyer waits on the approval's status URL instead of resending its order: the order is decided twice (the
  // escalation and the retry with the verdict), however long the reviewer takes.
  const orders = records.filter((r) => r.type === 'decision' && (r.data as { target?: { path?: string } }).target?.path === '/orders');
  assert.equal(orders.length, 2, `order decisions: ${orders.map((r) => r.outcome).join(', ')}`);
  assert.equal(outcome.ledgerEntries, records.length);
  assert.match(output, /Look at it as an auditor would:\n {2}.* ledger verify .*ledger\.db --vkey .*ledger\.vkey/);
});
