import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroups, type CgroupOptions } from './cgroups/detect.js';
import { BwrapDriver } from './drivers/bwrap.js';
import { SANDBOX_GID_INSIDE, SANDBOX_UID_INSIDE, type ReadOnlyMount } from './drivers/bwrap-args.js';
import type { Driver } from './drivers/driver.js';
import { GvisorDriver } from './drivers/gvisor.js';
import { MicrovmDriver, type MicrovmOptions } from './drivers/microvm.js';
import { FORWARDER_SOURCE } from './egress/forwarder.js';
import type { Resolver } from './egress/proxy.js';
import { SandboxError } from './errors.js';
import { Slots } from './queue.js';
import { DEFAULT_LIMITS, describeNormalized, MAX_LIMITS, normalizeRequest, type NormalizedRequest } from './request.js';
import { resolveRuntimes, type Runtimes } from './runtimes.js';
import type { DriverName, DriverStatus, ExecutionDescription, ExecutionOutcome, ExecutionRequest, Limits } from './types.js';

export interface SandboxOptions {
  /** Driver used when a request names none. Default `bwrap`. */
  driver?: DriverName;
  /** Executions running at once (default: the number of CPUs). */
  concurrency?: number;
  /**
   * bwrap sandboxes without network kept set up ahead of requests, each used once (default: `concurrency`; 0: none).
   * An execution that finds one skips namespace, mount and cgroup set-up; see bench/sandbox for what it saves.
   */
  warm?: number;
  /** Executions waiting for a slot; beyond, `run` rejects with `queue_full` (default 100). */
  maxQueued?: number;
  /** Host uid/gid of sandboxed code when this process is root (default 65534, "nobody"). Never 0. */
  uid?: number;
  gid?: number;
  cgroups?: CgroupOptions;
  /**
   * Run even though memory, pids and CPU limits cannot be enforced (no usable cgroup). Every outcome then carries a
   * warning saying so. Default false: such executions are refused with `limits_unenforceable`.
   */
  allowUnenforcedLimits?: boolean;
  defaultLimits?: Partial<Limits>;
  /** Caps on what a request may ask for (default: MAX_LIMITS). */
  maxLimits?: Partial<Limits>;
  /** Total bytes of input files per execution (default 64 MiB). */
  maxInputBytes?: number;
  /** Interpreter paths inside the sandbox; default: python3, node, bash found in /usr. */
  runtimes?: Runtimes;
  /** Extra host paths mounted read-only (e.g. a virtualenv). */
  mounts?: ReadOnlyMount[];
  /** Name resolution for the egress proxy (tests inject one; default: the system resolver). */
  resolver?: Resolver;
  bwrapPath?: string;
  runscPath?: string;
  microvm?: MicrovmOptions;
  /** Parent directory of the sandbox's own host files (default: the OS temp dir). */
  stateDir?: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** A started execution: stream its output through the callbacks given to `start`, cancel it, await its outcome. */
export interface Execution {
  readonly id: string;
  readonly description: ExecutionDescription;
  readonly outcome: Promise<ExecutionOutcome>;
  cancel(): void;
}

export interface Sandbox {
  /** The data a policy decides on, computed without running anything (throws `invalid_request`). */
  describe(request: ExecutionRequest): ExecutionDescription;
  /** Validates synchronously, then queues; the outcome rejects only with a SandboxError (never for the code's faults). */
  start(request: ExecutionRequest, options?: RunOptions): Execution;
  run(request: ExecutionRequest, options?: RunOptions): Promise<ExecutionOutcome>;
  /** Whether each driver can run here, and if not, why. */
  drivers(): Promise<DriverStatus[]>;
  /** Executions running and queued; bwrap sandboxes prepared and waiting (see `warm`). */
  readonly stats: { running: number; queued: number; warm: number };
  /** Refuses queued executions, waits for running ones, removes the sandbox's host files. */
  close(): Promise<void>;
}

function hostFiles(dir: string): { passwd: string; group: string; hosts: string; forwarder: string } {
  const files = {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${SANDBOX_UID_INSIDE}:${SANDBOX_GID_INSIDE}:sandbox:/work:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${SANDBOX_GID_INSIDE}:\nnogroup:x:65534:\n`,
    hosts: '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n',
    forwarder: FORWARDER_SOURCE,
  };
  const paths = {} as Record<keyof typeof files, string>;
  for (const [name, content] of Object.entries(files) as [keyof typeof files, string][]) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], content, { mode: 0o644 });
  }
  return paths;
}

function nonRoot(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new SandboxError('invalid_request', `${name} must be a positive integer (the sandbox never runs as root), got ${value}`);
  return value;
}

function count(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new SandboxError('invalid_request', `${name} must be a non-negative integer, got ${value}`);
  return value;
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const uid = nonRoot('uid', options.uid ?? 65534);
  const gid = nonRoot('gid', options.gid ?? 65534);
  const stateDir = mkdtempSync(join(options.stateDir ?? tmpdir(), 'oagf-sandbox-'));
  // 0711: the sandbox uid may reach the files it is given by name, nobody may list them.
  chmodSync(stateDir, 0o711);
  const files = hostFiles(stateDir);
  const detection = await detectCgroups(options.cgroups);
  let unenforcedWarning: string | null = null;
  let refusal: string | null = null;
  if (!detection.manager) {
    const what = `memory, pids and CPU limits are NOT enforced: ${detection.reason}`;
    if (options.allowUnenforcedLimits) unenforcedWarning = what;
    else refusal = `${what} (set allowUnenforcedLimits to run anyway)`;
  }
  const runtimes = resolveRuntimes(options.runtimes);
  const concurrency = options.concurrency ?? availableParallelism();
  const bwrap = new BwrapDriver({
    bwrapPath: options.bwrapPath ?? '/usr/bin/bwrap',
    uid,
    gid,
    cgroups: detection.manager,
    unenforcedWarning,
    runtimes,
    hostFiles: files,
    stateDir,
    extraMounts: options.mounts ?? [],
    resolver: options.resolver,
    warm: refusal ? 0 : count('warm', options.warm ?? concurrency),
  });
  const drivers: Record<DriverName, Driver> = {
    bwrap,
    gvisor: new GvisorDriver({ runscPath: options.runscPath ?? '/usr/bin/runsc', uid, gid, cgroups: detection.manager, unenforcedWarning, runtimes, stateDir, hostFiles: files, extraMounts: options.mounts ?? [] }),
    microvm: new MicrovmDriver(options.microvm ?? {}),
  };
  const probes = new Map<DriverName, Promise<DriverStatus>>();
  const probe = (name: DriverName) => {
    if (!probes.has(name)) probes.set(name, drivers[name].probe());
    return probes.get(name)!;
  };
  const normalizeOptions = {
    defaultDriver: options.driver ?? 'bwrap',
    defaultLimits: { ...DEFAULT_LIMITS, ...options.defaultLimits },
    maxLimits: { ...MAX_LIMITS, ...options.maxLimits },
    maxInputBytes: options.maxInputBytes ?? 64 * 1024 * 1024,
  };
  const slots = new Slots(concurrency, options.maxQueued ?? 100);
  detection.manager?.weighParent(concurrency);
  const running = new Set<Promise<unknown>>();
  let closed = false;

  async function execute(id: string, request: NormalizedRequest, description: ExecutionDescription, runOptions: RunOptions, signal: AbortSignal): Promise<ExecutionOutcome> {
    if (closed) throw new SandboxError('closed', 'the sandbox is closed');
    const status = await probe(request.driver);
    if (!status.available) throw new SandboxError('driver_unavailable', `driver ${request.driver} is unavailable: ${status.reason}`);
    if (refusal) throw new SandboxError('limits_unenforceable', refusal);
    const release = await slots.acquire(signal);
    try {
      return await drivers[request.driver].run({ id, request, description, signal, onStdout: runOptions.onStdout, onStderr: runOptions.onStderr });
    } finally {
      release();
    }
  }

  const normalize = (request: ExecutionRequest): NormalizedRequest => {
    const normalized = normalizeRequest(request, normalizeOptions);
    drivers[normalized.driver].check?.(normalized);
    return normalized;
  };

  const sandbox: Sandbox = {
    describe(request) {
      return describeNormalized(normalize(request));
    },
    start(request, runOptions = {}) {
      const normalized = normalize(request);
      const description = describeNormalized(normalized);
      const id = randomBytes(12).toString('hex');
      const controller = new AbortController();
      const forward = () => controller.abort();
      runOptions.signal?.addEventListener('abort', forward, { once: true });
      if (runOptions.signal?.aborted) controller.abort();
      const outcome = execute(id, normalized, description, runOptions, controller.signal);
      const tracked = outcome.catch(() => undefined).finally(() => {
        running.delete(tracked);
        runOptions.signal?.removeEventListener('abort', forward);
      });
      running.add(tracked);
      return { id, description, outcome, cancel: () => controller.abort() };
    },
    run(request, runOptions) {
      try {
        return sandbox.start(request, runOptions).outcome;
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async drivers() {
      return Promise.all((['bwrap', 'gvisor', 'microvm'] as DriverName[]).map(probe));
    },
    get stats() {
      return { running: slots.running, queued: slots.queued, warm: bwrap.warmReady };
    },
    async close() {
      closed = true;
      slots.refuseAll(new SandboxError('closed', 'the sandbox was closed while the execution was queued'));
      await Promise.all(running);
      await Promise.all(Object.values(drivers).map((d) => d.close?.()));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return sandbox;
}
