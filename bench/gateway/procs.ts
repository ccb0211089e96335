/**
 * The bench's child processes: started and waited for until ready, pinned to CPUs with taskset, their CPU time
 * read from /proc (with every descendant, so a gatekeeper's worker processes count), stopped on exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const children: ChildProcess[] = [];
export function stopAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

export interface Started {
  pid: number;
  match: RegExpMatchArray;
  child: ChildProcess;
}

/** Spawns `node args` and resolves with the first stdout/stderr text matching `ready`. */
export function start(name: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Started> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolveReady, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s; output:\n${seen}`)), 60_000);
    const onData = (d: Buffer) => {
      if (seen.length < 100_000) seen += d.toString();
      const match = seen.match(ready);
      if (match) {
        clearTimeout(timer);
        resolveReady({ pid: child.pid!, match, child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready; output:\n${seen}`)));
  });
}

export async function stop(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  const exited = new Promise((r) => started.child.once('exit', r));
  started.child.kill('SIGTERM');
  await exited;
}

/**
 * CPU sets for a machine with `cores` cores: the gateway on the first, the load generator and upstream on the
 * rest, so neither steals the other's core. One core: nothing pinned.
 */
export function cpuSets(cores = availableParallelism()): { gateway?: string; load?: string; all?: string } {
  if (cores < 2) return {};
  return { gateway: '0', load: cores === 2 ? '1' : `1-${cores - 1}`, all: `0-${cores - 1}` };
}

export const hasTaskset = spawnSync('taskset', ['-V']).status === 0;

/** Pins every thread of a process (and so the threads it starts later) to `cpus`. */
export function pin(pid: number, cpus: string | undefined): void {
  if (!cpus || !hasTaskset) return;
  spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

function descendants(pid: number): number[] {
  const out = [pid];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const kid of kids.split(' ').filter(Boolean)) out.push(...descendants(Number(kid)));
  }
  return out;
}

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** CPU time (user + system, ms) used so far by a process and all its descendants still alive. */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of descendants(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited between the listing and the read
    }
  }
  return ticks * TICK_MS;
}
