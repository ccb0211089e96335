/**
 * The sandbox one gatekeeper process runs agent code in (`sandbox:` in gatekeeper.yaml), opened once by the server
 * and shared by the surfaces that carry out `sandbox.exec` — `POST /v1/sandbox/executions` and the MCP tool
 * `sandbox__run` — so its concurrency limit, queue and warm pool are one, whichever way the code arrives.
 */
import { createSandbox, type ExecutionOutcome, type Sandbox } from '@oagf/sandbox';
import { Counter } from 'prom-client';
import type { SandboxConfig } from '../../config/schema.js';
import type { ExecutionContext, Executed } from '../../gate/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import { readExecution, type ExecutionBody, type SandboxRequest } from './request.js';
import { runJudged, type RunHooks } from './run.js';

export class SandboxService {
  private constructor(
    readonly sandbox: Sandbox,
    readonly driver: string,
    readonly executions: Counter<'status'>,
    /** Why executions cannot run (driver unavailable), for /readyz. */
    readonly problem: string | undefined,
  ) {}

  static async open(config: SandboxConfig, metrics: Metrics, logger: Logger): Promise<SandboxService> {
    const sandbox = await createSandbox({
      driver: config.driver,
      ...(config.concurrency ? { concurrency: config.concurrency } : {}),
      maxQueued: config.max_queued,
      ...(config.warm !== undefined ? { warm: config.warm } : {}),
      uid: config.uid,
      gid: config.gid,
      cgroups: { mode: config.cgroups.mode, ...(config.cgroups.parent ? { parent: config.cgroups.parent } : {}) },
      allowUnenforcedLimits: config.allow_unenforced_limits,
      defaultLimits: config.default_limits,
      maxLimits: config.max_limits,
      maxInputBytes: config.max_input_bytes,
    });
    const executions = new Counter({
      name: 'gatekeeper_sandbox_executions_total',
      help: 'Sandbox executions carried out, by outcome status',
      labelNames: ['status'] as const,
      registers: [metrics.registry],
    });
    const status = (await sandbox.drivers()).find((d) => d.name === config.driver);
    const problem = status?.available ? undefined : `sandbox driver ${config.driver} is unavailable: ${status?.reason ?? 'unknown driver'}`;
    if (problem) logger.error({ driver: config.driver }, problem);
    return new SandboxService(sandbox, config.driver, executions, problem);
  }

  /** The `sandbox.exec` action of a request; a SandboxError names what the sandbox would refuse to run. */
  read(body: ExecutionBody): SandboxRequest {
    return readExecution(body, this.sandbox, this.driver);
  }

  run(request: SandboxRequest, judged: ExecutionContext, hooks: RunHooks): Promise<Executed<ExecutionOutcome>> {
    return runJudged(this.sandbox, request, judged, hooks, this.executions);
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }
}
