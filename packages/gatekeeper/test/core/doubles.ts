/** Small test doubles for the gate's seams: a policy written in TypeScript and an in-memory decision log. */
import type { DecisionLog, DecisionRecord } from '../../src/stores/ledger.js';
import { PolicyEvalError, type PolicyEvaluator } from '../../src/policy/engine.js';
import type { AgentIdentity } from '../../src/spec/index.js';

export function fnPolicy(decide: (input: any) => unknown, digest = 'sha256:test'): PolicyEvaluator {
  return { digest, evaluate: (input) => ({ value: decide(input), explanation: [{ rule: 'data.test.rule' }] }) };
}

export function throwingPolicy(code: 'policy_error' | 'policy_budget'): PolicyEvaluator {
  return {
    digest: 'sha256:bad',
    evaluate() {
      throw new PolicyEvalError(code, code === 'policy_budget' ? 'evaluation exceeded 10 steps' : 'division by zero');
    },
  };
}

export class MemoryLog implements DecisionLog {
  records: { record: DecisionRecord; payloads: Record<string, unknown> }[] = [];
  failing?: Error;
  async append(record: DecisionRecord, payloads: Record<string, unknown>) {
    if (this.failing) throw this.failing;
    this.records.push({ record, payloads });
    return { index: this.records.length - 1 };
  }
}

export const planner: AgentIdentity = { id: 'planner', owner: 'alice', team: 'supply-chain', labels: {}, delegation: [] };
