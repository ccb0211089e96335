import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { CgroupManager } from '../cgroups/cgroup.js';
import type { Resolver } from '../egress/proxy.js';
import type { Runtimes } from '../runtimes.js';
import { seccompSupported } from '../seccomp.js';
import type { DriverStatus, ExecutionOutcome } from '../types.js';
import { rootFilesystemArgs, WRAPPER_SHELL, type HostFiles, type ReadOnlyMount } from './bwrap-args.js';
import { prepareSandbox, type PrepareOptions, type PreparedSandbox } from './bwrap-prepare.js';
import type { Driver, RunContext } from './driver.js';
import { SandboxExecution, type SandboxShape } from './execution.js';
import { WarmPool } from './warm-pool.js';

export interface BwrapDriverOptions {
  bwrapPath: string;
  /** Host uid/gid the sandbox runs as when this process is root (bwrap itself is never run as root). */
  uid: number;
  gid: number;
  cgroups: CgroupManager | null;
  /** Set when running without cgroups was allowed: recorded in every outcome. */
  unenforcedWarning: string | null;
  runtimes: Runtimes;
  hostFiles: HostFiles;
  /** Directory (0711) for the executions' egress sockets and input directories. */
  stateDir: string;
  extraMounts: ReadOnlyMount[];
  resolver?: Resolver;
  setupTimeoutMs?: number;
  /** Sandboxes without network kept prepared ahead of requests (0: none). */
  warm: number;
}


export class BwrapDriver implements Driver {
  readonly name = 'bwrap' as const;
  private readonly rootFilesystem: string[];
  private readonly prepareOptions: PrepareOptions;
  private readonly pool: WarmPool;
  private readonly cleanups = new Set<Promise<void>>();

  constructor(private readonly options: BwrapDriverOptions) {
    this.rootFilesystem = rootFilesystemArgs(options.extraMounts);
    this.prepareOptions = { ...options, rootFilesystem: this.rootFilesystem };
    this.pool = new WarmPool(options.warm, (id, shape) => prepareSandbox(this.prepareOptions, id, shape));
  }

  async probe(): Promise<DriverStatus> {
    if (process.platform !== 'linux') return { name: this.name, available: false, reason: 'bubblewrap needs Linux' };
    if (!seccompSupported()) return { name: this.name, available: false, reason: `the seccomp filter is written for x86_64; this host is ${process.arch}` };
    try {
      accessSync(this.options.bwrapPath, constants.X_OK);
    } catch {
      return { name: this.name, available: false, reason: `${this.options.bwrapPath} not found (install bubblewrap)` };
    }
    try {
      accessSync(WRAPPER_SHELL, constants.X_OK);
    } catch {
      return { name: this.name, available: false, reason: `${WRAPPER_SHELL} not found (the in-sandbox wrapper needs bash)` };
    }
    const asRoot = process.getuid?.() === 0;
    const result = spawnSync(this.options.bwrapPath, ['--unshare-all', '--unshare-user', '--disable-userns', ...this.rootFilesystem, '--', '/usr/bin/true'], {
      ...(asRoot ? { uid: this.options.uid, gid: this.options.gid } : {}),
      cwd: '/',
      env: {},
      timeout: 10_000,
      encoding: 'utf8',
    });
    if (result.status !== 0) return { name: this.name, available: false, reason: `bwrap cannot create namespaces here: ${(result.stderr || result.error?.message || '').trim()}` };
    const version = spawnSync(this.options.bwrapPath, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const who = asRoot ? `uid ${this.options.uid}` : `uid ${process.getuid?.()}`;
    return { name: this.name, available: true, reason: `${version}, sandbox runs as ${who}, ${this.options.cgroups ? `cgroup v${this.options.cgroups.version}` : 'no cgroups'}` };
  }

  async run(context: RunContext): Promise<ExecutionOutcome> {
    const { outcome, cleanup } = await new SandboxExecution({
      ...this.options,
      driver: this.name,
      sandboxFor: (shape) => this.sandboxFor(context.id, shape),
      started: (shape) => {
        if (!shape.egressSocket) this.pool.refill(shape);
      },
    }, context).run();
    const tracked = cleanup.finally(() => this.cleanups.delete(tracked));
    this.cleanups.add(tracked);
    return outcome;
  }

  /** A warm sandbox when one of the shape is ready (never with network: its egress socket is the execution's own). */
  private async sandboxFor(id: string, shape: SandboxShape): Promise<PreparedSandbox> {
    const warm = shape.egressSocket ? null : await this.pool.take(shape);
    return warm ?? prepareSandbox(this.prepareOptions, id, shape);
  }

  get warmReady(): number {
    return this.pool.ready;
  }

  async close(): Promise<void> {
    await this.pool.close();
    await Promise.all(this.cleanups);
  }
}

