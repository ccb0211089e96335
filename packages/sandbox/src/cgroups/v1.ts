import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU_PERIOD_US, cpuQuotaUs, parseFlatKeyed, killBackoff, readOr, sleep, writeQuietly, type CgroupLimits, type CgroupManager, type CgroupUsage, type ExecutionCgroup } from './cgroup.js';

/** The v1 controllers an execution needs; cpu and cpuacct are often co-mounted, then they share a directory. */
export const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'] as const;
const V1_DEFAULT_SHARES = 1024;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Parent directory per controller (an existing, writable cgroup). */
export type V1Parents = Record<V1Controller, string>;

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

function readNumber(path: string): number | null {
  try {
    return Number(readText(path).trim());
  } catch {
    return null;
  }
}

class V1Cgroup implements ExecutionCgroup {
  readonly version = 1 as const;

  constructor(private readonly dirs: V1Parents) {}

  private uniqueDirs(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  limit(limits: CgroupLimits): void {
    const memory = String(limits.memoryBytes);
    // memsw (RAM + swap) must stay >= the RAM limit at every step: lowering goes RAM first, raising memsw first.
    const memsw = join(this.dirs.memory, 'memory.memsw.limit_in_bytes');
    const ram = join(this.dirs.memory, 'memory.limit_in_bytes');
    const hasMemsw = existsSync(memsw);
    const lowering = Number(readText(ram).trim()) > limits.memoryBytes;
    if (hasMemsw && !lowering) writeFileSync(memsw, memory);
    writeFileSync(ram, memory);
    // Without swap accounting the limit would only bound RAM; with it, RAM + swap.
    if (hasMemsw && lowering) writeFileSync(memsw, memory);
    writeFileSync(join(this.dirs.pids, 'pids.max'), String(limits.pids));
    writeFileSync(join(this.dirs.cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
    writeFileSync(join(this.dirs.cpu, 'cpu.cfs_quota_us'), String(cpuQuotaUs(limits.cpuCores)));
  }

  async addProcesses(pids: number[]): Promise<void> {
    for (const dir of this.uniqueDirs()) {
      for (const pid of pids) {
        try {
          writeFileSync(join(dir, 'cgroup.procs'), String(pid));
        } catch (error) {
          // A helper process that already exited cannot be moved and does not need to be.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
    }
  }

  async usage(): Promise<CgroupUsage> {
    return {
      cpuMs: (readNumber(join(this.dirs.cpuacct, 'cpuacct.usage')) ?? 0) / 1e6,
      maxMemoryBytes: readNumber(join(this.dirs.memory, 'memory.max_usage_in_bytes')),
      oomKills: parseFlatKeyed(readOr(join(this.dirs.memory, 'memory.oom_control'), '')).get('oom_kill') ?? 0,
      pidsLimitHits: parseFlatKeyed(readOr(join(this.dirs.pids, 'pids.events'), '')).get('max') ?? 0,
    };
  }

  async freeze(): Promise<void> {
    const state = join(this.dirs.freezer, 'freezer.state');
    writeFileSync(state, 'FROZEN');
    for (let i = 0; i < 1000 && readText(state).trim() !== 'FROZEN'; i++) await sleep(1);
  }

  private pidsInside(): number[] {
    const text = readOr(join(this.dirs.pids, 'cgroup.procs'), '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  async killAll(): Promise<void> {
    // Frozen tasks only die once thawed; kill first so nothing runs in between, then thaw.
    for (let round = 0; round < 400; round++) {
      const pids = this.pidsInside();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      writeQuietly(join(this.dirs.freezer, 'freezer.state'), 'THAWED');
      await killBackoff(round);
    }
    throw new Error(`cgroup ${this.dirs.pids} still has processes after SIGKILL`);
  }

  async destroy(): Promise<void> {
    await this.killAll().catch(() => undefined);
    for (const dir of this.uniqueDirs()) {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          await sleep(2);
        }
      }
    }
  }
}

export class CgroupV1Manager implements CgroupManager {
  readonly version = 1 as const;
  readonly parents: string[];

  constructor(private readonly parentDirs: V1Parents) {
    this.parents = [...new Set(Object.values(parentDirs))];
  }

  weighParent(slots: number): void {
    writeQuietly(join(this.parentDirs.cpu, 'cpu.shares'), String(V1_DEFAULT_SHARES * slots));
  }

  async create(id: string, limits: CgroupLimits): Promise<ExecutionCgroup> {
    const dirs = Object.fromEntries(V1_CONTROLLERS.map((c) => [c, join(this.parentDirs[c], id)])) as V1Parents;
    const cgroup = new V1Cgroup(dirs);
    try {
      for (const dir of new Set(Object.values(dirs))) mkdirSync(dir);
      cgroup.limit(limits);
      return cgroup;
    } catch (error) {
      await cgroup.destroy();
      throw error;
    }
  }
}
