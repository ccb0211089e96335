import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { CgroupLimits, CgroupManager } from '../cgroups/cgroup.js';
import { SandboxError } from '../errors.js';
import { processTree } from '../procs.js';
import type { NormalizedRequest } from '../request.js';
import type { Runtimes } from '../runtimes.js';
import type { DriverStatus, ExecutionOutcome } from '../types.js';
import type { HostFiles, ReadOnlyMount } from './bwrap-args.js';
import { endWrite } from './bwrap-prepare.js';
import type { Driver, RunContext } from './driver.js';
import { SandboxExecution, type SandboxHandle, type SandboxShape } from './execution.js';
import { writeBundle } from './gvisor-bundle.js';

export interface GvisorDriverOptions {
  runscPath: string;
  /** Host uid/gid runsc runs as (rootless) when this process is root. */
  uid: number;
  gid: number;
  cgroups: CgroupManager | null;
  unenforcedWarning: string | null;
  runtimes: Runtimes;
  stateDir: string;
  hostFiles: HostFiles;
  extraMounts: ReadOnlyMount[];
  setupTimeoutMs?: number;
}

/**
 * The cgroup's pids controller also counts gVisor's own tasks (the Sentry's and the gofer's threads, the ptrace
 * stubs), so the execution's pids limit is raised by this much; the code's processes are the Sentry's, not the host's.
 */
export const GVISOR_OWN_TASKS = 512;

/** gVisor's sandbox, rootless, on the ptrace platform (no KVM needed), without any network. */
const RUNSC_FLAGS = ['--rootless', '--network=none', '--platform=ptrace', '--ignore-cgroups'];

/**
 * gVisor: the code runs on gVisor's user-space kernel (the Sentry), which alone talks to the host kernel through a
 * small set of system calls; files come through its gofer. runsc runs rootless as the sandbox uid; limits are the
 * same cgroup and rlimits as bwrap's. Not (yet) supported here, and refused rather than run differently: network
 * allowlists and output files (gVisor's tmpfs is not readable from the host).
 */
export class GvisorDriver implements Driver {
  readonly name = 'gvisor' as const;
  private readonly cleanups = new Set<Promise<void>>();

  constructor(private readonly options: GvisorDriverOptions) {}

  async probe(): Promise<DriverStatus> {
    const unavailable = (reason: string): DriverStatus => ({ name: this.name, available: false, reason });
    try {
      accessSync(this.options.runscPath, constants.X_OK);
    } catch {
      return unavailable(`${this.options.runscPath} not found (install runsc, Debian package "runsc")`);
    }
    const version = spawnSync(this.options.runscPath, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout?.split('\n')[0]?.trim() || 'runsc';
    // A real start, as the sandbox uid: rootless runsc needs user namespaces and ptrace, which a host may deny.
    const dir = join(this.options.stateDir, `gv-probe-${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(dir, { mode: 0o755 });
      const state = this.stateDirIn(dir);
      const asRoot = process.getuid?.() === 0;
      const result = spawnSync(this.options.runscPath, [...RUNSC_FLAGS, '--root', state, 'do', '--', '/usr/bin/true'], {
        ...(asRoot ? { uid: this.options.uid, gid: this.options.gid } : {}),
        cwd: dir,
        env: { PATH: '/usr/bin:/bin' },
        timeout: 20_000,
        encoding: 'utf8',
      });
      if (result.status !== 0) return unavailable(`${version} cannot start a rootless sandbox here: ${(result.stderr || result.error?.message || '').trim().split('\n').at(-1)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { name: this.name, available: true, reason: `${version}, rootless, ptrace platform, no network; ${this.options.cgroups ? `cgroup v${this.options.cgroups.version}` : 'no cgroups'}` };
  }

  check(request: NormalizedRequest): void {
    if (request.network.allow.length > 0) throw new SandboxError('invalid_request', 'the gvisor driver runs without network: network.allow needs the bwrap driver');
    if (request.outputs.length > 0) throw new SandboxError('invalid_request', 'the gvisor driver cannot return output files yet: outputs need the bwrap driver');
  }

  async run(context: RunContext): Promise<ExecutionOutcome> {
    this.check(context.request);
    const { outcome, cleanup } = await new SandboxExecution(
      { ...this.options, driver: this.name, sandboxFor: (shape) => this.prepare(context.id, shape), started: () => undefined },
      context,
    ).run();
    const tracked = cleanup.finally(() => this.cleanups.delete(tracked));
    this.cleanups.add(tracked);
    return outcome;
  }

  async close(): Promise<void> {
    await Promise.all(this.cleanups);
  }

  /** runsc's own state directory, the sandbox uid's (runsc runs as that uid). */
  private stateDirIn(dir: string): string {
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    if (process.getuid?.() === 0) chownSync(state, this.options.uid, this.options.gid);
    return state;
  }

  private async prepare(id: string, shape: SandboxShape): Promise<SandboxHandle> {
    const { options } = this;
    const dir = join(options.stateDir, `gv-${id}`);
    const inputDir = join(dir, 'in');
    mkdirSync(inputDir, { recursive: true, mode: 0o755 });
    const container = `oagf-${id}`;
    const state = this.stateDirIn(dir);
    writeBundle({ dir, inputDir, diskBytes: shape.diskBytes, runtimes: options.runtimes, hostFiles: options.hostFiles, extraMounts: options.extraMounts });
    const withOwnTasks = (limits: CgroupLimits): CgroupLimits => ({ ...limits, pids: limits.pids + GVISOR_OWN_TASKS });
    const cgroup = options.cgroups ? await options.cgroups.create(`exec-${id}`, withOwnTasks(shape.limits)) : null;
    const remove = async () => {
      await cgroup?.destroy();
      // Whatever runsc left of this container (its state); then the bundle.
      spawnSync(options.runscPath, [...RUNSC_FLAGS, '--root', state, 'delete', '--force', container], { timeout: 10_000, stdio: 'ignore', ...(process.getuid?.() === 0 ? { uid: options.uid, gid: options.gid } : {}) });
      rmSync(dir, { recursive: true, force: true });
    };
    const asRoot = process.getuid?.() === 0;
    const child = spawn(options.runscPath, [...RUNSC_FLAGS, '--root', state, 'run', '--bundle', dir, container], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {},
      cwd: dir,
      ...(asRoot ? { uid: options.uid, gid: options.gid } : {}),
    });
    if (child.pid && cgroup) void cgroup.addProcesses([child.pid]).catch(() => undefined);
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const early: Buffer[] = [];
    let sinks: [(c: Buffer) => void, (c: Buffer) => void] = [(c) => early.push(c), (c) => early.push(c)];
    // The wrapper's `ready` is the first line of stdout; it is not the program's output.
    let pending = '';
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    let seenReady = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (seenReady) return sinks[0](chunk);
      pending += chunk.toString('latin1');
      const nl = pending.indexOf('\n');
      if (nl < 0) return;
      seenReady = pending.slice(0, nl) === 'ready';
      const rest = Buffer.from(pending.slice(nl + 1), 'latin1');
      if (seenReady) {
        onReady();
        if (rest.length > 0) sinks[0](rest);
      } else early.push(Buffer.from(pending, 'latin1'));
    });
    child.stderr!.on('data', (chunk: Buffer) => sinks[1](chunk));
    const setup = await Promise.race([
      ready.then(() => 'ready' as const),
      exited.then(() => `runsc exited during setup: ${Buffer.concat(early).toString('utf8').trim()}`),
      new Promise<string>((resolve) => child.once('error', (e) => resolve(`spawn failed: ${e.message}`))),
      new Promise<string>((resolve) => setTimeout(() => resolve('setup timed out'), options.setupTimeoutMs ?? 30_000).unref()),
    ]);
    if (setup !== 'ready') {
      child.kill('SIGKILL');
      await remove();
      throw new Error(setup);
    }
    await cgroup?.addProcesses(processTree(child.pid!));
    return {
      shape,
      child,
      cgroup,
      inputDir,
      hostRoot: null,
      limit: (limits) => cgroup?.limit(withOwnTasks(limits)),
      route(onStdout, onStderr) {
        sinks = [onStdout, onStderr];
        for (const chunk of early.splice(0)) onStderr(chunk);
      },
      start(go, stdin) {
        const input = child.stdin as Writable;
        input.on('error', () => undefined);
        input.write(`${go}\n`);
        endWrite(input, stdin);
      },
      // The wrapper is the container's init: its exit status is runsc's.
      exitReport: () => exited.then(() => child.exitCode),
      remove,
    };
  }
}
