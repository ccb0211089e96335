/**
 * A gatekeeper serving only the OpenAI-compatible surface, on the real gate pipeline, with a policy written
 * as a function and an in-memory decision log (or a failing one) — for tests of that surface.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createAuthenticator, hashApiKey } from '../../src/auth/agents.js';
import { GatekeeperConfig } from '../../src/config/schema.js';
import type { DecisionLog, DecisionRecord } from '../../src/decision-log.js';
import { createGate, type ActionAttempt, type Gate, type GateHooks } from '../../src/gate.js';
import { Router } from '../../src/http/router.js';
import { Metrics } from '../../src/metrics.js';
import { registerOpenAIRoutes } from '../../src/openai/routes.js';
import { PolicyEvalError, staticSource } from '../../src/policy/engine.js';
import type { OagfInput } from '../../src/spec/index.js';
import type { SurfaceDeps } from '../../src/surface.js';

export const AGENT_KEY = 'sk-agent-planner-test';
export const UPSTREAM_KEY = 'sk-upstream-secret';

export type PolicyFn = (input: OagfInput) => unknown;

/** Allows everything except what the test's rules say. */
export const allowAll: PolicyFn = () => ({ outcome: 'allow', reasons: [] });

export class MemoryLog implements DecisionLog {
  readonly records: DecisionRecord[] = [];
  failWith: Error | undefined;
  async append(record: DecisionRecord): Promise<{ index: number }> {
    if (this.failWith) throw this.failWith;
    this.records.push(record);
    return { index: this.records.length - 1 };
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
}): Promise<TestGatekeeper> {
  const config = GatekeeperConfig.parse({
    agents: [{ id: 'planner', owner: 'alice', team: 'supply-chain', api_keys: [hashApiKey(AGENT_KEY)] }],
    llm: opts.llm ?? {
      upstreams: [{ name: 'scripted', base_url: `${opts.upstreamUrl}/v1`, api_key: { env: 'TEST_UPSTREAM_KEY' }, timeout_ms: opts.timeoutMs ?? 10_000 }],
      denied_tool_call: opts.deniedToolCall ?? 'message',
    },
    amounts: opts.amounts ?? [],
    policy: { bundle: 'unused' },
    ledger: { path: 'unused', signing_key_file: 'unused' },
  });
  const log = new MemoryLog();
  const policyFn = opts.policy ?? allowAll;
  const policy = staticSource({
    digest: 'sha256:test',
    evaluate(input) {
      try {
        return { value: policyFn(input as OagfInput), explanation: [] };
      } catch (err) {
        throw new PolicyEvalError('policy_error', (err as Error).message);
      }
    },
  });
  const attempts: ActionAttempt[] = [];
  const real = createGate({ policy, log, hooks: opts.hooks });
  const gate: Gate = { decide: (attempt) => (attempts.push(attempt), real.decide(attempt)) };
  const metrics = new Metrics();
  const deps: SurfaceDeps = {
    config,
    configDir: '.',
    logger: pino({ level: 'silent' }),
    metrics,
    policy,
    clock: () => new Date(),
    gate,
    auth: createAuthenticator(config),
  };
  const router = new Router();
  const surface = registerOpenAIRoutes(router, deps, { TEST_UPSTREAM_KEY: UPSTREAM_KEY })!;
  const server: Server = createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    attempts,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await surface.close();
    },
  };
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
