import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU_PERIOD_US, cpuQuotaUs, parseFlatKeyed, killBackoff, readOr, sleep, writeQuietly, type CgroupLimits, type CgroupManager, type CgroupUsage, type ExecutionCgroup } from './cgroup.js';

export const V2_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
const V2_DEFAULT_WEIGHT = 100;
const V2_MAX_WEIGHT = 10_000;

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

class V2Cgroup implements ExecutionCgroup {
  readonly version = 2 as const;

  constructor(private readonly dir: string) {}

  limit(limits: CgroupLimits): void {
    writeFileSync(join(this.dir, 'memory.max'), String(limits.memoryBytes));
    writeFileSync(join(this.dir, 'pids.max'), String(limits.pids));
    writeFileSync(join(this.dir, 'cpu.max'), `${cpuQuotaUs(limits.cpuCores)} ${CPU_PERIOD_US}`);
  }

  async addProcesses(pids: number[]): Promise<void> {
    for (const pid of pids) {
      try {
        writeFileSync(join(this.dir, 'cgroup.procs'), String(pid));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }

  async usage(): Promise<CgroupUsage> {
    const peak = readOr(join(this.dir, 'memory.peak'), null);
    return {
      cpuMs: (parseFlatKeyed(readOr(join(this.dir, 'cpu.stat'), '')).get('usage_usec') ?? 0) / 1000,
      maxMemoryBytes: peak === null ? null : Number(peak.trim()),
      oomKills: parseFlatKeyed(readOr(join(this.dir, 'memory.events'), '')).get('oom_kill') ?? 0,
      pidsLimitHits: parseFlatKeyed(readOr(join(this.dir, 'pids.events'), '')).get('max') ?? 0,
    };
  }

  async freeze(): Promise<void> {
    writeFileSync(join(this.dir, 'cgroup.freeze'), '1');
    for (let i = 0; i < 200; i++) {
      if (parseFlatKeyed(readText(join(this.dir, 'cgroup.events'))).get('frozen') === 1) return;
      await sleep(5);
    }
  }

  private populated(): boolean {
    const events = readOr(join(this.dir, 'cgroup.events'), 'populated 0');
    return parseFlatKeyed(events).get('populated') === 1;
  }

  async killAll(): Promise<void> {
    const hasKill = existsSync(join(this.dir, 'cgroup.kill'));
    for (let round = 0; round < 400; round++) {
      if (!this.populated()) return;
      if (hasKill) writeQuietly(join(this.dir, 'cgroup.kill'), '1');
      else {
        const procs = readOr(join(this.dir, 'cgroup.procs'), '').split('\n').filter(Boolean);
        for (const pid of procs) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      // Frozen tasks die on SIGKILL in v2, but thawing does no harm and covers older kernels.
      writeQuietly(join(this.dir, 'cgroup.freeze'), '0');
      await killBackoff(round);
    }
    throw new Error(`cgroup ${this.dir} still has processes after SIGKILL`);
  }

  async destroy(): Promise<void> {
    await this.killAll().catch(() => undefined);
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        await sleep(2);
      }
    }
  }
}

export class CgroupV2Manager implements CgroupManager {
  readonly version = 2 as const;
  readonly parents: string[];

  constructor(private readonly parent: string) {
    this.parents = [parent];
  }

  /** Makes sure the parent hands memory, pids and cpu down to its children; explains what is missing if not. */
  async prepare(): Promise<void> {
    const available = readText(join(this.parent, 'cgroup.controllers')).split(/\s+/);
    const missing = V2_CONTROLLERS.filter((c) => !available.includes(c));
    if (missing.length > 0) throw new Error(`cgroup v2 ${this.parent} lacks controllers: ${missing.join(', ')} (not delegated by its parent)`);
    const enabled = readText(join(this.parent, 'cgroup.subtree_control')).split(/\s+/);
    const toEnable = V2_CONTROLLERS.filter((c) => !enabled.includes(c));
    if (toEnable.length === 0) return;
    try {
      writeFileSync(join(this.parent, 'cgroup.subtree_control'), toEnable.map((c) => `+${c}`).join(' '));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EBUSY' ? 'it holds processes itself (v2 "no internal processes" rule)' : `${code ?? String(error)}`;
      throw new Error(`cannot enable ${toEnable.join(', ')} in ${join(this.parent, 'cgroup.subtree_control')}: ${why}; point cgroupParent at a delegated, empty cgroup`);
    }
  }

  weighParent(slots: number): void {
    writeQuietly(join(this.parent, 'cpu.weight'), String(Math.min(V2_MAX_WEIGHT, V2_DEFAULT_WEIGHT * slots)));
  }

  async create(id: string, limits: CgroupLimits): Promise<ExecutionCgroup> {
    const dir = join(this.parent, id);
    const cgroup = new V2Cgroup(dir);
    try {
      mkdirSync(dir);
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
      // One OOM kill ends the whole execution, as every other limit does.
      if (existsSync(join(dir, 'memory.oom.group'))) writeFileSync(join(dir, 'memory.oom.group'), '1');
      cgroup.limit(limits);
      return cgroup;
    } catch (error) {
      await cgroup.destroy();
      throw error;
    }
  }
}
