import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { CgroupManager } from '../cgroups/cgroup.js';
import { processTree } from '../procs.js';
import type { Runtimes } from '../runtimes.js';
import { seccompFilter } from '../seccomp.js';
import { bwrapArgs, type HostFiles } from './bwrap-args.js';
import type { SandboxHandle, SandboxShape } from './execution.js';

export const FIRST_FD = 3;
const SECCOMP_FD = FIRST_FD + 1;

/** Line protocol on fd 3 between the host and the in-sandbox wrapper. */
export class ControlChannel {
  private buffered = '';
  private readonly waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  private readonly lines: string[] = [];
  closed = false;

  constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      this.buffered += data;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        this.deliver(this.buffered.slice(0, nl));
        this.buffered = this.buffered.slice(nl + 1);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  private deliver(line: string): void {
    const i = this.waiters.findIndex((w) => w.match(line));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(line);
    else this.lines.push(line);
  }

  next(match: (line: string) => boolean): Promise<string> {
    const i = this.lines.findIndex(match);
    if (i >= 0) return Promise.resolve(this.lines.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  send(line: string): void {
    if (!this.socket.destroyed) this.socket.write(`${line}\n`);
  }
}

function mntNamespace(pid: number | 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}


export function endWrite(stream: Writable | null | undefined, data: Buffer | null): void {
  if (!stream) return;
  stream.on('error', () => undefined);
  if (data) stream.end(data);
  else stream.end();
}


export interface PrepareOptions {
  bwrapPath: string;
  /** Host uid/gid bwrap runs as when this process is root (it is never run as root). */
  uid: number;
  gid: number;
  cgroups: CgroupManager | null;
  runtimes: Runtimes;
  hostFiles: HostFiles;
  rootFilesystem: string[];
  /** Where each sandbox's input directory is made (0711, so the sandbox uid reaches only what it is given). */
  stateDir: string;
  setupTimeoutMs?: number;
}

/** A bwrap sandbox set up ahead: bwrap spawned, its wrapper waiting for `go` on the control channel (fd 3). */
export interface PreparedSandbox extends SandboxHandle {
  readonly id: string;
  readonly control: ControlChannel;
  /** Resolves when bwrap is gone and its stdio closed. */
  readonly exited: Promise<void>;
}

export function isAlive(sandbox: PreparedSandbox): boolean {
  return sandbox.child.exitCode === null && sandbox.child.signalCode === null && !sandbox.control.closed;
}

/** Removes what a finished sandbox leaves on the host: its cgroup (killing anything left) and its input directory. */
export async function removeSandbox(sandbox: Pick<PreparedSandbox, 'cgroup' | 'inputDir'>): Promise<void> {
  await sandbox.cgroup?.destroy();
  rmSync(sandbox.inputDir, { recursive: true, force: true });
}

/** Kills a prepared sandbox nobody will use and removes it. */
export async function disposeSandbox(sandbox: PreparedSandbox): Promise<void> {
  try {
    sandbox.child.kill('SIGKILL');
  } catch {
    // already gone
  }
  await removeSandbox(sandbox);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export async function prepareSandbox(options: PrepareOptions, id: string, shape: SandboxShape): Promise<PreparedSandbox> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot && (options.uid === 0 || options.gid === 0)) throw new Error('refusing to run bwrap as root: configure an unprivileged sandbox uid/gid');
  const inputDir = join(options.stateDir, `in-${id}`);
  mkdirSync(inputDir, { mode: 0o755 });
  const cgroup = options.cgroups ? await options.cgroups.create(`exec-${id}`, shape.limits).catch((error: unknown) => {
    rmSync(inputDir, { recursive: true, force: true });
    throw error;
  }) : null;
  let child: ChildProcess | null = null;
  try {
    const args = bwrapArgs({ diskBytes: shape.diskBytes, runtimes: options.runtimes, hostFiles: options.hostFiles, rootFilesystem: options.rootFilesystem, egressSocket: shape.egressSocket, inputDir, seccompFd: SECCOMP_FD });
    const spawned = spawn(options.bwrapPath, args, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      // Nothing of this process's environment reaches bwrap (its reaper's /proc/1/environ is readable inside).
      env: {},
      cwd: '/',
      ...(asRoot ? { uid: options.uid, gid: options.gid } : {}),
    });
    child = spawned;
    // Moved into the cgroup as early as possible; the rest of the tree joins once the wrapper is ready.
    if (spawned.pid && cgroup) void cgroup.addProcesses([spawned.pid]).catch(() => undefined);
    const early: Buffer[] = [];
    let sinks: [(c: Buffer) => void, (c: Buffer) => void] = [(c) => early.push(c), (c) => early.push(c)];
    spawned.stdout!.on('data', (chunk: Buffer) => sinks[0](chunk));
    spawned.stderr!.on('data', (chunk: Buffer) => sinks[1](chunk));
    endWrite(spawned.stdio[SECCOMP_FD] as Writable, seccompFilter());
    const control = new ControlChannel(spawned.stdio[FIRST_FD] as Socket);
    const exited = new Promise<void>((resolve) => spawned.once('close', () => resolve()));
    const spawnFailed = new Promise<string>((resolve) => spawned.once('error', (e) => resolve(e.message)));
    const ready = Promise.all([control.next((l) => l === 'ready'), shape.egressSocket ? control.next((l) => l === 'forwarder-ready') : null]);
    const setup = await Promise.race([
      ready.then(() => 'ready' as const),
      exited.then(() => `bwrap exited during setup: ${Buffer.concat(early).toString('utf8').trim()}`),
      spawnFailed.then((m) => `spawn failed: ${m}`),
      delay(options.setupTimeoutMs ?? 15_000).then(() => 'setup timed out'),
    ]);
    if (setup !== 'ready') throw new Error(setup);
    const tree = processTree(spawned.pid!);
    await cgroup?.addProcesses(tree);
    const own = mntNamespace('self');
    const insidePid = tree.find((p) => mntNamespace(p) !== own) ?? tree[1] ?? spawned.pid!;
    const prepared: PreparedSandbox = {
      id,
      shape,
      child: spawned,
      control,
      cgroup,
      inputDir,
      hostRoot: `/proc/${insidePid}/root`,
      exited,
      route(onStdout, onStderr) {
        sinks = [onStdout, onStderr];
        for (const chunk of early.splice(0)) onStderr(chunk);
      },
      limit: (limits) => cgroup?.limit(limits),
      start(go, stdin) {
        endWrite(spawned.stdin, stdin);
        control.send(go);
      },
      exitReport: () => Promise.race([control.next((l) => l.startsWith('exit ')).then((l) => Number(l.slice(5))), exited.then(() => null)]),
      remove: () => removeSandbox(prepared),
    };
    return prepared;
  } catch (error) {
    try {
      child?.kill('SIGKILL');
    } catch {
      // already gone
    }
    await removeSandbox({ cgroup, inputDir });
    throw error;
  }
}
