import { spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { OutputBudget, StreamCapture } from '../capture.js';
import type { CgroupManager, CgroupUsage, ExecutionCgroup } from '../cgroups/cgroup.js';
import { collectOutputs, type CollectResult } from '../collect.js';
import { EgressProxy, type Resolver } from '../egress/proxy.js';
import type { Runtimes } from '../runtimes.js';
import { seccompSupported } from '../seccomp.js';
import type { DriverStatus, ExecutionOutcome, ExecutionStatus, LimitName } from '../types.js';
import { goLine, rootFilesystemArgs, SANDBOX_PATHS, WRAPPER_SHELL, type HostFiles, type ReadOnlyMount } from './bwrap-args.js';
import { endWrite, prepareSandbox, removeSandbox, type ControlChannel, type PrepareOptions, type PreparedSandbox, type SandboxShape } from './bwrap-prepare.js';
import type { Driver, RunContext } from './driver.js';
import { deliverInputs } from './inputs.js';
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

const POLL_MS = 50;

type KillReason = Extract<ExecutionStatus, 'timeout' | 'cpu_limit' | 'oom' | 'pids_limit' | 'output_limit' | 'cancelled' | 'error'>;

function fullFilesystems(root: string): boolean {
  for (const dir of [SANDBOX_PATHS.work, SANDBOX_PATHS.tmp, '/dev/shm']) {
    try {
      if (statfsSync(join(root, dir)).bfree === 0) return true;
    } catch {
      // the sandbox is gone
    }
  }
  return false;
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
    const { outcome, cleanup } = await new BwrapExecution(this.options, context, {
      sandboxFor: (shape) => this.sandboxFor(context.id, shape),
      started: (shape) => {
        if (!shape.egressSocket) this.pool.refill(shape);
      },
    }).run();
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

class BwrapExecution {
  private child: ChildProcess | null = null;
  private cgroup: ExecutionCgroup | null = null;
  private proxy: EgressProxy | null = null;
  private killReason: KillReason | null = null;
  private error: string | undefined;
  private readonly warnings: string[] = [];
  private readonly budget: OutputBudget;
  private readonly stdout: StreamCapture;
  private readonly stderr: StreamCapture;
  private readonly startedAt = new Date();
  private goAt = 0;
  private endedAt = 0;
  private killed: Promise<void> | null = null;
  private frozen = false;
  private sandbox: PreparedSandbox | null = null;

  constructor(
    private readonly options: BwrapDriverOptions,
    private readonly context: RunContext,
    private readonly sandboxes: { sandboxFor(shape: SandboxShape): Promise<PreparedSandbox>; started(shape: SandboxShape): void },
  ) {
    this.budget = new OutputBudget(context.request.limits.outputBytes, () => this.kill('output_limit'));
    this.stdout = new StreamCapture(this.budget, context.onStdout);
    this.stderr = new StreamCapture(this.budget, context.onStderr);
    if (options.unenforcedWarning) this.warnings.push(options.unenforcedWarning);
  }

  /**
   * The outcome, and the removal of the execution's cgroup. After a normal exit the wrapper has already killed what
   * the program left and bwrap is gone, so the removal need not delay the outcome; after a kill, teardown has waited
   * for the cgroup to be empty before the outcome is given.
   */
  async run(): Promise<{ outcome: ExecutionOutcome; cleanup: Promise<void> }> {
    let usage: CgroupUsage | null = null;
    let collected: CollectResult = { files: [], skipped: [] };
    let exitCode: number | null = null;
    let diskFull = false;
    const onAbort = () => this.kill('cancelled');
    this.context.signal.addEventListener('abort', onAbort);
    try {
      if (this.context.signal.aborted) throw Object.assign(new Error('cancelled before start'), { cancelled: true });
      const { request } = this.context;
      if (request.network.allow.length > 0) {
        this.proxy = await EgressProxy.start({ socketPath: join(this.options.stateDir, `${this.context.id}.sock`), policy: request.network, resolver: this.options.resolver });
      }
      const sandbox = await this.sandboxes.sandboxFor({
        diskBytes: request.limits.diskBytes,
        egressSocket: this.proxy ? join(this.options.stateDir, `${this.context.id}.sock`) : null,
        limits: request.limits,
      });
      this.sandbox = sandbox;
      this.child = sandbox.child;
      this.cgroup = sandbox.cgroup;
      sandbox.route((chunk) => this.stdout.push(chunk), (chunk) => this.stderr.push(chunk));
      if (this.killReason) {
        // Cancelled while the sandbox was being prepared.
        this.killed = this.killTree();
      } else {
        const { control, exited, insidePid } = sandbox;
        this.cgroup?.limit(request.limits);
        deliverInputs(sandbox.inputDir, request, this.options.runtimes);
        endWrite(sandbox.child.stdin, request.stdin);
        this.goAt = performance.now();
        control.send(goLine(request));
        this.sandboxes.started(sandbox.shape);
        const report = await this.watch(control, exited);
        this.endedAt = performance.now();
        if (report !== null) {
          exitCode = report;
          // Frozen, nothing in the sandbox can swap a file for a link while the host reads outputs.
          if (request.outputs.length > 0 && this.cgroup) {
            this.frozen = true;
            await this.cgroup.freeze();
          }
          const root = `/proc/${insidePid}/root`;
          diskFull = fullFilesystems(root);
          collected = await collectOutputs(join(root, SANDBOX_PATHS.work), request.outputs, request.limits.outputFilesBytes);
        }
      }
    } catch (error) {
      if ((error as { cancelled?: boolean }).cancelled) this.killReason = 'cancelled';
      else this.fail(error instanceof Error ? error.message : String(error));
    } finally {
      this.context.signal.removeEventListener('abort', onAbort);
      await this.teardown();
      usage = await this.cgroup?.usage().catch(() => null) ?? null;
      await this.proxy?.close();
    }
    return { outcome: this.outcome(exitCode, usage, diskFull, collected), cleanup: this.sandbox ? removeSandbox(this.sandbox) : Promise.resolve() };
  }

  /** Enforces wall time and the cgroup limits until the wrapper reports the exit code (or the sandbox is gone). */
  private async watch(control: ControlChannel, exited: Promise<void>): Promise<number | null> {
    const { limits } = this.context.request;
    const wall = setTimeout(() => this.kill('timeout'), limits.wallTimeMs);
    const poll = this.cgroup
      ? setInterval(() => {
          void this.cgroup!.usage()
            .then((u) => {
              if (u.oomKills > 0) this.kill('oom');
              else if (u.pidsLimitHits > 0) this.kill('pids_limit');
              else if (u.cpuMs > limits.cpuTimeMs) this.kill('cpu_limit');
            })
            .catch(() => undefined);
        }, POLL_MS)
      : null;
    try {
      const report = control.next((l) => l.startsWith('exit '));
      const result = await Promise.race([report.then((l) => Number(l.slice(5))), exited.then(() => null), this.killedPromise().then(() => null)]);
      return this.killReason ? null : result;
    } finally {
      clearTimeout(wall);
      if (poll) clearInterval(poll);
    }
  }

  private killWaiters: (() => void)[] = [];

  private killedPromise(): Promise<void> {
    return new Promise((resolve) => {
      if (this.killReason) resolve();
      else this.killWaiters.push(resolve);
    });
  }

  private fail(message: string): void {
    this.error ??= message;
    this.kill('error');
  }

  /** Records why the execution is ended (first reason wins) and kills the whole tree. */
  private kill(reason: KillReason): void {
    if (this.killReason) return;
    if (!this.endedAt && this.goAt) this.endedAt = performance.now();
    this.killReason = reason;
    for (const w of this.killWaiters.splice(0)) w();
    this.killed = this.killTree();
  }

  private async killTree(): Promise<void> {
    // The cgroup kill catches anything that raced the pid namespace's end.
    this.killBwrap();
    await this.cgroup?.killAll().catch(() => undefined);
  }

  /** Killing bwrap kills its reaper (PR_SET_PDEATHSIG), which takes the sandbox's whole pid namespace with it. */
  private killBwrap(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  private async teardown(): Promise<void> {
    // Killing bwrap takes the whole sandbox down. A kill for a limit also waits until its cgroup is empty, and so
    // does a frozen sandbox: frozen tasks die only once the cgroup kill thaws them.
    if (!this.killed && this.frozen) this.killed = this.killTree();
    if (this.killed) await this.killed;
    else this.killBwrap();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
    // stdout/stderr drain after exit; wait for them so nothing the code printed is lost.
    await Promise.all([child?.stdout, child?.stderr].map((s) => (s && !s.readableEnded && !s.destroyed ? new Promise((r) => s.once('close', r)) : null)));
  }

  private outcome(exitCode: number | null, usage: CgroupUsage | null, diskFull: boolean, collected: CollectResult): ExecutionOutcome {
    const { limits } = this.context.request;
    const wallMs = this.goAt ? (this.endedAt || performance.now()) - this.goAt : 0;
    const reached: LimitName[] = [];
    if (this.killReason === 'timeout') reached.push('wallTime');
    if (usage && (usage.cpuMs > limits.cpuTimeMs || this.killReason === 'cpu_limit')) reached.push('cpuTime');
    if (usage && usage.oomKills > 0) reached.push('memory');
    if (usage && usage.pidsLimitHits > 0) reached.push('pids');
    if (diskFull) reached.push('disk');
    if (this.budget.wasExceeded) reached.push('output');
    let status: ExecutionStatus;
    if (this.killReason) status = this.killReason;
    else if (reached.includes('memory')) status = 'oom';
    else if (reached.includes('pids')) status = 'pids_limit';
    else if (reached.includes('cpuTime')) status = 'cpu_limit';
    else if (reached.includes('disk')) status = 'disk_limit';
    else status = 'exited';
    if (this.proxy?.dropped) this.warnings.push(`${this.proxy.dropped} further egress attempts were refused and not recorded individually`);
    return {
      id: this.context.id,
      driver: 'bwrap',
      status,
      exitCode: status === 'exited' || status === 'oom' || status === 'pids_limit' || status === 'cpu_limit' || status === 'disk_limit' ? exitCode : null,
      limitsReached: reached,
      usage: { wallMs: Math.round(wallMs * 1000) / 1000, cpuMs: usage ? Math.round(usage.cpuMs * 1000) / 1000 : null, maxMemoryBytes: usage?.maxMemoryBytes ?? null },
      stdout: this.stdout.summary(),
      stderr: this.stderr.summary(),
      stdoutText: this.stdout.text(),
      stderrText: this.stderr.text(),
      files: collected.files,
      skippedOutputs: collected.skipped,
      egress: this.proxy?.attempts ?? [],
      description: this.context.description,
      warnings: this.warnings,
      ...(this.error ? { error: this.error } : {}),
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
    };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
