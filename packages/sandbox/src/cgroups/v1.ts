import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CPU_PERIOD_US, cpuQuotaUs, parseFlatKeyed, sleep, type CgroupLimits, type CgroupManager, type CgroupUsage, type ExecutionCgroup } from './cgroup.js';

/** The v1 controllers an execution needs; cpu and cpuacct are often co-mounted, then they share a directory. */
export const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Parent directory per controller (an existing, writable cgroup). */
export type V1Parents = Record<V1Controller, string>;

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

async function readNumber(path: string): Promise<number | null> {
  try {
    return Number((await readText(path)).trim());
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

  async addProcesses(pids: number[]): Promise<void> {
    for (const dir of this.uniqueDirs()) {
      for (const pid of pids) {
        try {
          await writeFile(join(dir, 'cgroup.procs'), String(pid));
        } catch (error) {
          // A helper process that already exited cannot be moved and does not need to be.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
    }
  }

  async usage(): Promise<CgroupUsage> {
    const [cpuNs, maxMemory, oomControl, pidsEvents] = await Promise.all([
      readNumber(join(this.dirs.cpuacct, 'cpuacct.usage')),
      readNumber(join(this.dirs.memory, 'memory.max_usage_in_bytes')),
      readText(join(this.dirs.memory, 'memory.oom_control')).catch(() => ''),
      readText(join(this.dirs.pids, 'pids.events')).catch(() => ''),
    ]);
    return {
      cpuMs: (cpuNs ?? 0) / 1e6,
      maxMemoryBytes: maxMemory,
      oomKills: parseFlatKeyed(oomControl).get('oom_kill') ?? 0,
      pidsLimitHits: parseFlatKeyed(pidsEvents).get('max') ?? 0,
    };
  }

  async freeze(): Promise<void> {
    const state = join(this.dirs.freezer, 'freezer.state');
    await writeFile(state, 'FROZEN');
    for (let i = 0; i < 1000 && (await readText(state)).trim() !== 'FROZEN'; i++) await sleep(1);
  }

  private async pidsInside(): Promise<number[]> {
    const text = await readText(join(this.dirs.pids, 'cgroup.procs')).catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  async killAll(): Promise<void> {
    // Frozen tasks only die once thawed; kill first so nothing runs in between, then thaw.
    for (let round = 0; round < 400; round++) {
      const pids = await this.pidsInside();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await writeFile(join(this.dirs.freezer, 'freezer.state'), 'THAWED').catch(() => undefined);
      await sleep(round < 50 ? 1 : 10);
    }
    throw new Error(`cgroup ${this.dirs.pids} still has processes after SIGKILL`);
  }

  async destroy(): Promise<void> {
    await this.killAll().catch(() => undefined);
    for (const dir of this.uniqueDirs()) {
      for (let i = 0; i < 50; i++) {
        try {
          await rmdir(dir);
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

  async create(id: string, limits: CgroupLimits): Promise<ExecutionCgroup> {
    const dirs = Object.fromEntries(V1_CONTROLLERS.map((c) => [c, join(this.parentDirs[c], id)])) as V1Parents;
    const cgroup = new V1Cgroup(dirs);
    try {
      for (const dir of new Set(Object.values(dirs))) await mkdir(dir);
      const limit = String(limits.memoryBytes);
      await writeFile(join(dirs.memory, 'memory.limit_in_bytes'), limit);
      // Without swap accounting the limit would only bound RAM; with it, RAM + swap.
      await writeFile(join(dirs.memory, 'memory.memsw.limit_in_bytes'), limit).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await writeFile(join(dirs.pids, 'pids.max'), String(limits.pids));
      await writeFile(join(dirs.cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      await writeFile(join(dirs.cpu, 'cpu.cfs_quota_us'), String(cpuQuotaUs(limits.cpuCores)));
      return cgroup;
    } catch (error) {
      await cgroup.destroy();
      throw error;
    }
  }
}
