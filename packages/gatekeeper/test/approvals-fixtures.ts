/** Shared set-up for approval tests: a gate with a JS policy that escalates orders over $1M, and a memory ledger. */
import { createGate, type ActionAttempt, type Gate } from '../src/gate/index.js';
import { staticSource } from '../src/policy/engine.js';
import type { DecisionLog, DecisionRecord } from '../src/stores/ledger.js';
import { ApprovalService } from '../src/approvals/service.js';
import { SqliteApprovalStore } from '../src/stores/sqlite/approvals.js';
import { ApprovalSigner } from '../src/approvals/signing.js';
import { Redactor } from '../src/redact.js';
import { TraceRecorder } from '../src/approvals/trace.js';
import { approvalHooks } from '../src/approvals/hooks.js';
import { MemoryNotifier } from '../src/stores/memory/notifier.js';
import type { ApprovalLedger, LedgerEntry, Reviewer } from '../src/approvals/types.js';

export class MemoryLedger implements DecisionLog, ApprovalLedger {
  readonly records: { record: DecisionRecord | LedgerEntry; payloads?: Record<string, unknown> }[] = [];
  async append(record: DecisionRecord | LedgerEntry, payloads?: Record<string, unknown>) {
    this.records.push({ record, ...(payloads ? { payloads } : {}) });
    return { index: this.records.length - 1 };
  }
  ofType(type: string) {
    return this.records.filter((r) => r.record.type === type);
  }
}

export interface Approvers {
  min?: number;
  groups?: string[];
  users?: string[];
}

/** An approval service over a memory ledger, and its gate hooks with the given per-surface modes. */
export function approvals(options: { modes: Record<string, 'hold' | 'async'>; expiryMs?: number; holdTimeoutMs?: number; now?: () => Date }) {
  const ledger = new MemoryLedger();
  const redactor = new Redactor(['ACME-[0-9]{6}']);
  const traces = new TraceRecorder(redactor);
  const service = new ApprovalService({
    store: new SqliteApprovalStore(':memory:'),
    notifier: new MemoryNotifier(),
    ledger,
    signer: ApprovalSigner.generate(),
    redactor,
    expiryMs: options.expiryMs ?? 60_000,
    ...(options.now ? { now: options.now } : {}),
  });
  const opened: string[] = [];
  const hooks = approvalHooks({
    service,
    traces,
    modes: options.modes,
    holdTimeoutMs: options.holdTimeoutMs ?? 5_000,
    retryAfterSeconds: 2,
    onOpened: (a) => opened.push(a.id),
  });
  return { ledger, service, hooks, opened };
}

export function world(options: { approvers?: Approvers; expiryMs?: number; holdTimeoutMs?: number; mode?: 'hold' | 'async'; now?: () => Date } = {}) {
  const { ledger, service, hooks, opened } = approvals({ ...options, modes: { api: options.mode ?? 'async', openai: 'hold', decision: 'async' } });
  const gate: Gate = createGate({
    policy: staticSource({
      digest: 'sha256:' + 'ab'.repeat(32),
      evaluate(input) {
        const amount = (input as { action: { amount?: { value: number } } }).action.amount?.value ?? 0;
        if (amount > 1_000_000) {
          return {
            value: {
              outcome: 'escalate',
              reasons: ['order of $' + amount.toLocaleString('en-US') + ' is over the agent limit of $1,000,000'],
              ...(options.approvers ? { approvers: options.approvers } : {}),
            },
            explanation: [{ rule: 'data.keynote.escalate_over_limit' }],
          };
        }
        return { value: { outcome: 'allow' }, explanation: [] };
      },
    }),
    log: ledger,
    plugins: [{ name: 'approvals', hooks }],
  });
  return { ledger, service, gate, opened };
}

export function orderAttempt(quantity: number, extra: Partial<ActionAttempt> = {}): ActionAttempt {
  const unit = 1200;
  return {
    agent: { id: 'buyer', owner: 'bob', team: 'supply-chain', labels: {}, delegation: [{ agent: 'planner', owner: 'carol', reason: 'restock Q3' }] },
    action: {
      kind: 'http.request',
      target: { api: 'erp', method: 'POST', path: '/orders' },
      body: { sku: 'GPU-H100', quantity, unit_price: unit, supplier: 'Contoso' },
      amount: { value: quantity * unit, currency: 'USD' },
    },
    context: { session_id: 'sess-1' },
    surface: 'api',
    ...extra,
  };
}

export const reviewer = (username: string, groups: string[] = [], roles: Reviewer['roles'] = ['reviewer']): Reviewer => ({
  username,
  displayName: username,
  roles,
  groups,
});
