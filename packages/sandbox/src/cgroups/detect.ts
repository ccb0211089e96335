import { constants } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { CgroupManager } from './cgroup.js';
import { CgroupV1Manager, V1_CONTROLLERS, type V1Parents } from './v1.js';
import { CgroupV2Manager, V2_CONTROLLERS } from './v2.js';

export type CgroupMode = 'auto' | 'v1' | 'v2' | 'none';

export interface CgroupOptions {
  mode?: CgroupMode;
  /**
   * The cgroup (a path as in /proc/self/cgroup, e.g. `/oagf-sandbox`) under which each execution gets its own; it
   * must be writable by this process (root, or delegated). Default: on v1 `<own cgroup>/oagf-sandbox` per
   * controller, on v2 `/oagf-sandbox` as root and the own cgroup otherwise.
   */
  parent?: string;
}

/** A manager, or the reason there is none (so the sandbox can refuse, or warn when told to run without). */
export type CgroupDetection = { manager: CgroupManager; detail: string } | { manager: null; reason: string };

interface CgroupMount {
  mountPoint: string;
  root: string;
  type: 'cgroup' | 'cgroup2';
  controllers: string[];
}

export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [type, , superOptions = ''] = right.split(' ');
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    mounts.push({
      mountPoint: fields[4]!.replace(/\\040/g, ' '),
      root: fields[3]!,
      type,
      controllers: type === 'cgroup' ? superOptions.split(',') : [],
    });
  }
  return mounts;
}

/** `hierarchy-id:controllers:path` lines; v2's is `0::path`. */
export function parseProcCgroup(text: string): Map<string, string> {
  const byController = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const names = m[1] === '' ? ['<unified>'] : m[1]!.split(',');
    for (const name of names) byController.set(name, m[2]!);
  }
  return byController;
}

function within(mount: CgroupMount, cgroupPath: string): string {
  return join(mount.mountPoint, posix.relative(mount.root, cgroupPath));
}

async function detectV1(mounts: CgroupMount[], own: Map<string, string>, parent: string | undefined): Promise<CgroupDetection> {
  const parents: Partial<V1Parents> = {};
  for (const controller of V1_CONTROLLERS) {
    const mount = mounts.find((m) => m.type === 'cgroup' && m.controllers.includes(controller));
    if (!mount) return { manager: null, reason: `cgroup v1: the ${controller} controller is not mounted` };
    const base = parent ?? posix.join(own.get(controller) ?? '/', 'oagf-sandbox');
    parents[controller] = within(mount, base);
  }
  try {
    for (const dir of new Set(Object.values(parents))) {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    }
  } catch (error) {
    return { manager: null, reason: `cgroup v1: cannot create or write ${(error as NodeJS.ErrnoException).path ?? 'the parent cgroup'} (${(error as NodeJS.ErrnoException).code}); run as root or delegate a cgroup (chown) and set cgroupParent` };
  }
  const manager = new CgroupV1Manager(parents as V1Parents);
  return { manager, detail: `cgroup v1 under ${parents.memory}` };
}

async function detectV2(mounts: CgroupMount[], own: Map<string, string>, parent: string | undefined): Promise<CgroupDetection> {
  const mount = mounts.find((m) => m.type === 'cgroup2');
  if (!mount) return { manager: null, reason: 'cgroup v2 is not mounted' };
  const base = parent ?? (process.getuid?.() === 0 ? '/oagf-sandbox' : (own.get('<unified>') ?? '/'));
  const dir = within(mount, base);
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const manager = new CgroupV2Manager(dir);
    await manager.prepare();
    return { manager, detail: `cgroup v2 under ${dir}` };
  } catch (error) {
    return { manager: null, reason: `cgroup v2: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function v2HasControllers(mounts: CgroupMount[], text: (path: string) => string | null): boolean {
  const mount = mounts.find((m) => m.type === 'cgroup2');
  const controllers = mount ? text(join(mount.mountPoint, 'cgroup.controllers')) : null;
  return controllers !== null && V2_CONTROLLERS.every((c) => controllers.split(/\s+/).includes(c));
}

/** Which cgroup version enforces the limits here: v2 when its hierarchy has the controllers, else v1 (hybrid hosts). */
export async function detectCgroups(options: CgroupOptions = {}): Promise<CgroupDetection> {
  const mode = options.mode ?? 'auto';
  if (mode === 'none') return { manager: null, reason: 'cgroups disabled by configuration' };
  const [mountinfo, procCgroup] = await Promise.all([readFile('/proc/self/mountinfo', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
  const mounts = parseMountinfo(mountinfo);
  const own = parseProcCgroup(procCgroup);
  if (mode === 'v1') return detectV1(mounts, own, options.parent);
  if (mode === 'v2') return detectV2(mounts, own, options.parent);
  const rootControllers = await readFile(join(mounts.find((m) => m.type === 'cgroup2')?.mountPoint ?? '/nonexistent', 'cgroup.controllers'), 'utf8').catch(() => null);
  if (v2HasControllers(mounts, () => rootControllers)) return detectV2(mounts, own, options.parent);
  if (mounts.some((m) => m.type === 'cgroup')) return detectV1(mounts, own, options.parent);
  return { manager: null, reason: 'no cgroup hierarchy with memory, pids and cpu controllers is mounted' };
}
