import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { SandboxError } from '../errors.js';
import type { CgroupManager } from '../cgroups/cgroup.js';
import type { Resolver } from '../egress/proxy.js';
import type { Runtimes } from '../runtimes.js';
import type { DriverStatus, ExecutionOutcome } from '../types.js';
import type { HostFiles, ReadOnlyMount } from './bwrap-args.js';
import type { Driver } from './driver.js';

export interface GvisorDriverOptions {
  runscPath: string;
  cgroups: CgroupManager | null;
  unenforcedWarning: string | null;
  runtimes: Runtimes;
  stateDir: string;
  hostFiles: HostFiles;
  extraMounts: ReadOnlyMount[];
  resolver?: Resolver;
}

export class GvisorDriver implements Driver {
  readonly name = 'gvisor' as const;

  constructor(private readonly options: GvisorDriverOptions) {}

  async probe(): Promise<DriverStatus> {
    try {
      accessSync(this.options.runscPath, constants.X_OK);
    } catch {
      return { name: this.name, available: false, reason: `${this.options.runscPath} not found (install runsc, Debian package "runsc")` };
    }
    const version = spawnSync(this.options.runscPath, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout?.split('\n')[0]?.trim() || 'runsc';
    return { name: this.name, available: false, reason: `${version} is installed, but running executions under gVisor is not implemented yet (use bwrap)` };
  }

  async run(): Promise<ExecutionOutcome> {
    throw new SandboxError('driver_unavailable', 'gvisor driver not implemented yet');
  }
}
