import { readFileSync, writeFileSync } from 'node:fs';
import type { Limits } from '../types.js';

/** The limits a cgroup enforces; the rest (wall time, disk, output, open files) are enforced elsewhere. */
export type CgroupLimits = Pick<Limits, 'memoryBytes' | 'pids' | 'cpuCores'>;

export interface CgroupUsage {
  cpuMs: number;
  maxMemoryBytes: number | null;
  /** Processes the kernel's OOM killer ended in this cgroup. */
  oomKills: number;
  /** Forks refused at pids.max. */
  pidsLimitHits: number;
}

/** One execution's cgroup (on v1: one directory per controller hierarchy). */
export interface ExecutionCgroup {
  readonly version: 1 | 2;
  /** Sets memory, pids and CPU limits (also on a cgroup that already holds the not yet started sandbox). */
  limit(limits: CgroupLimits): void;
  /** Moves the processes (host pids) in; they must not be running untrusted code yet. */
  addProcesses(pids: number[]): Promise<void>;
  usage(): Promise<CgroupUsage>;
  freeze(): Promise<void>;
  /** Kills every process inside and waits until the cgroup is empty. */
  killAll(): Promise<void>;
  /** killAll, then removes the directories. Never throws: cleanup must not hide the outcome. */
  destroy(): Promise<void>;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Where executions' cgroups are created (v1: per controller). */
  readonly parents: string[];
  create(id: string, limits: CgroupLimits): Promise<ExecutionCgroup>;
  /**
   * Gives the parent the CPU weight of `slots` ordinary processes. Every execution's cgroup sits under this one
   * parent, so with the default weight all running executions together would count as one process against the host's
   * others and each would be starved on a busy host. Best effort (a delegated parent's weight may not be ours to set).
   */
  weighParent(slots: number): void;
}

export const CPU_PERIOD_US = 100_000;

export function cpuQuotaUs(cores: number): number {
  return Math.max(1000, Math.round(cores * CPU_PERIOD_US));
}

/** `key value` lines (memory.events, pids.events, cpu.stat, memory.oom_control) to a map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The wait between rounds of killing a cgroup's processes: SIGKILLed tasks usually leave within microseconds, so the
 * first rounds only yield to the event loop (a 1 ms timer would be most of an execution's teardown), later ones back off.
 */
export function killBackoff(round: number): Promise<void> {
  if (round < 8) return new Promise((resolve) => setImmediate(resolve));
  return sleep(round < 50 ? 1 : 10);
}

// cgroupfs files are kernel memory: synchronous I/O on them costs microseconds, less than a thread-pool round trip.
export function readOr<T>(path: string, fallback: T): string | T {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** A write whose failure does not matter (the cgroup may already be gone). */
export function writeQuietly(path: string, data: string): void {
  try {
    writeFileSync(path, data);
  } catch {
    // gone or not applicable
  }
}
