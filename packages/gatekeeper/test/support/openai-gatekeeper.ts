/**
 * A gatekeeper built by the real server builder (gate pipeline, surfaces), with a policy written
 * as a function and an in-memory decision log (or a failing one) — for tests of that surface.
 */
import { pino } from 'pino';
import { hashApiKey } from '../../src/auth/agents.js';
import { GatekeeperConfig } from '../../src/config/schema.js';
import type { DecisionLog, DecisionRecord, GateRecord, OutcomeRecord } from '../../src/stores/ledger.js';
import type { ActionAttempt, GateHooks } from '../../src/gate/index.js';
import { PolicyEvalError, staticSource } from '../../src/policy/engine.js';
import { buildServer, type Gatekeeper } from '../../src/server.js';
import type { OagfInput } from '../../src/spec/index.js';
import type { GatekeeperModule } from '../../src/surface.js';

export const AGENT_KEY = 'sk-agent-planner-test';
export const UPSTREAM_KEY = 'sk-upstream-secret';

export type PolicyFn = (input: OagfInput) => unknown;

/** Allows everything except what the test's rules say. */
export const allowAll: PolicyFn = () => ({ outcome: 'allow', reasons: [] });

/** A policy source whose decision is a TypeScript function; a throw is a policy error, as in the real engine. */
export function functionPolicy(policyFn: PolicyFn) {
  return staticSource({
    digest: 'sha256:test',
    evaluate(input) {
      try {
        return { value: policyFn(input as OagfInput), explanation: [] };
      } catch (err) {
        throw new PolicyEvalError('policy_error', (err as Error).message);
      }
    },
  });
}

/** Decision records in `records`, outcome records (what happened when an allowed action was carried out) in `outcomes`. */
export class MemoryLog implements DecisionLog {
  readonly records: DecisionRecord[] = [];
  readonly outcomes: OutcomeRecord[] = [];
  failWith: Error | undefined;
  private size = 0;
  async append(record: GateRecord): Promise<{ index: number }> {
    if (this.failWith) throw this.failWith;
    if (record.type === 'decision') this.records.push(record);
    else this.outcomes.push(record);
    return { index: this.size++ };
  }
}

export interface TestGatekeeper {
  url: string;
  log: MemoryLog;
  attempts: ActionAttempt[];
  stop(): Promise<void>;
}

export async function startGatekeeper(opts: {
  upstreamUrl: string;
  policy?: PolicyFn;
  deniedToolCall?: 'message' | 'error';
  hooks?: GateHooks[];
  timeoutMs?: number;
  llm?: Record<string, unknown>;
  amounts?: unknown[];
  /** Environment beside TEST_UPSTREAM_KEY (upstream credentials the configuration names). */
  env?: Record<string, string>;
}): Promise<TestGatekeeper> {
  const config = GatekeeperConfig.parse({
    agents: [{ id: 'planner', owner: 'alice', team: 'supply-chain', api_keys: [hashApiKey(AGENT_KEY)] }],
    llm: opts.llm ?? {
      upstreams: [{ name: 'scripted', base_url: `${opts.upstreamUrl}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' }, timeout_ms: opts.timeoutMs ?? 10_000 }],
      denied_tool_call: opts.deniedToolCall ?? 'message',
    },
    amounts: opts.amounts ?? [],
    listen: { host: '127.0.0.1', port: 0 },
    policy: { bundle: 'unused' },
    ledger: { path: 'unused', signing_key_file: 'unused' },
  });
  const log = new MemoryLog();
  const policyFn = opts.policy ?? allowAll;
  const policy = functionPolicy(policyFn);
  const attempts: ActionAttempt[] = [];
  const modules: GatekeeperModule[] = [
    // Observes every attempt the surface sends to the gate, with the action as the gate reads it (amount located).
    { name: 'recorder', setup: () => ({ hooks: { enrich: (input, attempt) => void attempts.push({ ...attempt, action: input.action }) } }) },
    ...(opts.hooks ?? []).map((hooks, i) => ({ name: `test-${i}`, setup: () => ({ hooks }) })),
  ];
  const gk: Gatekeeper = await buildServer(
    { config, file: 'test.yaml', dir: '.' },
    { log, policy, env: { TEST_UPSTREAM_KEY: UPSTREAM_KEY, ...opts.env }, modules, logger: pino({ level: 'silent' }) },
  );
  return { url: await gk.listen(), log, attempts, stop: () => gk.close() };
}

/** A fetch for SDK clients that also keeps the exact bytes each response delivered. */
export function recordingFetch(): { fetch: typeof fetch; bodies: string[] } {
  const bodies: string[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const copy = res.clone();
    const slot = bodies.push('') - 1;
    void copy.text().then((t) => (bodies[slot] = t), () => {});
    return res;
  };
  return { fetch: wrapped, bodies };
}
