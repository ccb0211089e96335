/** Agent code execution, governed (`sandbox:` in gatekeeper.yaml; off when absent). */
import { createSandbox } from '@oagf/sandbox';
import { Counter } from 'prom-client';
import type { SurfaceModule } from '../../surface.js';
import { registerSandboxRoutes } from './routes.js';

export const sandboxSurface: SurfaceModule = {
  name: 'sandbox',
  async register(router, deps) {
    const config = deps.config.sandbox;
    if (!config) return;
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
      registers: [deps.metrics.registry],
    });
    let problem: string | undefined;
    const status = (await sandbox.drivers()).find((d) => d.name === config.driver);
    if (!status?.available) problem = `sandbox driver ${config.driver} is unavailable: ${status?.reason ?? 'unknown driver'}`;
    if (problem) deps.logger.error({ driver: config.driver }, problem);
    registerSandboxRoutes(router, deps, sandbox, config.driver, executions);
    return { close: () => sandbox.close(), notReady: () => problem };
  },
};
