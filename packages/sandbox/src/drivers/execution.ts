import type { ChildProcess } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { OutputBudget, StreamCapture } from '../capture.js';
import type { CgroupLimits, CgroupUsage, ExecutionCgroup } from '../cgroups/cgroup.js';
import { collectOutputs, type CollectResult } from '../collect.js';
import { EgressProxy, type Resolver } from '../egress/proxy.js';
import type { Runtimes } from '../runtimes.js';
import type { DriverName, ExecutionOutcome, ExecutionStatus, LimitName } from '../types.js';
import { goLine, SANDBOX_PATHS } from './bwrap-args.js';
import type { RunContext } from './driver.js';
import { deliverInputs } from './inputs.js';

const POLL_MS = 50;

export interface SandboxShape {
  diskBytes: number;
  /** Host path of the egress socket bound into the sandbox, or null for none. */
  egressSocket: string | null;
  /** The cgroup's limits until the execution sets its own. */
  limits: CgroupLimits;
}

/**
 * A sandbox set up and waiting for `go`, whatever isolates it: the wrapper ready, every process in the sandbox's
 * cgroup, nothing of an execution in it yet.
 */
export interface SandboxHandle {
  readonly shape: SandboxShape;
  /** Killing it ends the sandbox. */
  readonly child: ChildProcess;
  readonly cgroup: ExecutionCgroup | null;
  /** Host directory the sandbox sees read-only at /.sandbox: the execution's inputs go there before `go`. */
  readonly inputDir: string;
  /** The sandbox's root as the host can read it after the exit report (outputs, full disks); null: it cannot. */
  readonly hostRoot: string | null;
  /** Where stdout and stderr go; until an execution takes the sandbox, they are kept for error messages. */
  route(onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void): void;
  /** Sets the execution's cgroup limits (a driver may add what its own machinery needs). */
  limit(limits: CgroupLimits): void;
  /** Sends the `go` line and then the program's stdin. */
  start(go: string, stdin: Buffer | null): void;
  /** The program's exit code as the wrapper reports it; null when the sandbox ended without a report. */
  exitReport(): Promise<number | null>;
  /** Removes what the finished sandbox leaves on the host (its cgroup, killing anything left, and its files). */
  remove(): Promise<void>;
}

export interface ExecutionHost {
  driver: DriverName;
  /** Directory (0711) for the executions' egress sockets. */
  stateDir: string;
  runtimes: Runtimes;
  /** Set when running without cgroups was allowed: recorded in every outcome. */
  unenforcedWarning: string | null;
  resolver?: Resolver;
  sandboxFor(shape: SandboxShape): Promise<SandboxHandle>;
  /** Told once the program runs (the bwrap driver then refills its warm pool). */
  started(shape: SandboxShape): void;
}

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

/** One execution in a prepared sandbox: inputs, `go`, limits watched, outputs read, outcome. */
export class SandboxExecution {
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
  private sandbox: SandboxHandle | null = null;

  constructor(
    private readonly options: ExecutionHost,
    private readonly context: RunContext,
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
      const sandbox = await this.options.sandboxFor({
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
        sandbox.limit(request.limits);
        deliverInputs(sandbox.inputDir, request, this.options.runtimes);
        this.goAt = performance.now();
        sandbox.start(goLine(request), request.stdin);
        this.options.started(sandbox.shape);
        const report = await this.watch(sandbox);
        this.endedAt = performance.now();
        if (report !== null) {
          exitCode = report;
          // Frozen, nothing in the sandbox can swap a file for a link while the host reads outputs.
          if (request.outputs.length > 0 && this.cgroup) {
            this.frozen = true;
            await this.cgroup.freeze();
          }
          const root = sandbox.hostRoot;
          if (root) {
            diskFull = fullFilesystems(root);
            collected = await collectOutputs(join(root, SANDBOX_PATHS.work), request.outputs, request.limits.outputFilesBytes);
          }
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
    return { outcome: this.outcome(exitCode, usage, diskFull, collected), cleanup: this.sandbox?.remove() ?? Promise.resolve() };
  }

  /** Enforces wall time and the cgroup limits until the wrapper reports the exit code (or the sandbox is gone). */
  private async watch(sandbox: SandboxHandle): Promise<number | null> {
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
      const result = await Promise.race([sandbox.exitReport(), this.killedPromise().then(() => null)]);
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
    this.killSandbox();
    await this.cgroup?.killAll().catch(() => undefined);
  }

  /** Killing bwrap kills its reaper (PR_SET_PDEATHSIG), which takes the sandbox's whole pid namespace with it. */
  private killSandbox(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  private async teardown(): Promise<void> {
    // Killing the sandbox's process takes it down. A kill for a limit also waits until its cgroup is empty, and so
    // does a frozen sandbox: frozen tasks die only once the cgroup kill thaws them.
    if (!this.killed && this.frozen) this.killed = this.killTree();
    if (this.killed) await this.killed;
    else this.killSandbox();
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
      driver: this.options.driver,
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
