import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { AppendInput } from '@oagf/ledger';

export const ORIGIN = 'test.gatekeeper.example/ledger';

/** A fresh directory removed when the test file finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function decision(n: number, extra: Partial<AppendInput> = {}): AppendInput {
  return {
    v: 1,
    type: 'decision',
    id: `dec-${n}`,
    time: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    agent: 'planning-agent',
    action_digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    outcome: n % 3 === 0 ? 'escalate' : 'allow',
    reasons: n % 3 === 0 ? ['order exceeds limit'] : [],
    policy_digest: 'sha256:' + 'ab'.repeat(32),
    ...extra,
  } as AppendInput;
}
