import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Runtimes } from '../runtimes.js';
import { baseEnv, rootFilesystem, SANDBOX_GID_INSIDE, SANDBOX_PATHS, SANDBOX_UID_INSIDE, STDIO_CHANNEL, WRAPPER_SHELL, wrapperScript, type HostFiles, type ReadOnlyMount } from './bwrap-args.js';

export interface BundleInput {
  dir: string;
  inputDir: string;
  diskBytes: number;
  runtimes: Runtimes;
  hostFiles: HostFiles;
  extraMounts: ReadOnlyMount[];
}

const bind = (host: string, sandbox: string) => ({ destination: sandbox, type: 'bind', source: host, options: ['rbind', 'ro'] });
const tmpfs = (sandbox: string, bytes: number) => ({ destination: sandbox, type: 'tmpfs', source: 'tmpfs', options: [`size=${bytes}`, 'mode=1777'] });

/**
 * An OCI bundle for `runsc run`: a read-only root holding only mount points and the merged-/usr links, the same host
 * paths bwrap binds read-only, size-capped tmpfs for /work, /tmp and /dev/shm, the input directory at /.sandbox, and
 * the same wrapper, talking over stdio. No network namespace is given a device: runsc runs with --network=none.
 */
export function writeBundle(input: BundleInput): void {
  const rootfs = join(input.dir, 'rootfs');
  const mounts: object[] = [{ destination: '/proc', type: 'proc', source: 'proc' }];
  const mountPoint = (sandbox: string, directory: boolean) => {
    const path = join(rootfs, sandbox);
    mkdirSync(directory ? path : dirname(path), { recursive: true, mode: 0o755 });
    if (!directory) writeFileSync(path, '', { mode: 0o644 });
  };
  for (const entry of rootFilesystem(input.extraMounts)) {
    if (entry.kind === 'symlink') {
      mkdirSync(dirname(join(rootfs, entry.sandbox)), { recursive: true, mode: 0o755 });
      symlinkSync(entry.target, join(rootfs, entry.sandbox));
      continue;
    }
    mountPoint(entry.sandbox, statSync(entry.host).isDirectory());
    mounts.push(bind(entry.host, entry.sandbox));
  }
  for (const [name, host] of [['passwd', input.hostFiles.passwd], ['group', input.hostFiles.group], ['hosts', input.hostFiles.hosts]] as const) {
    mountPoint(`/etc/${name}`, false);
    mounts.push(bind(host, `/etc/${name}`));
  }
  for (const dir of [SANDBOX_PATHS.work, SANDBOX_PATHS.tmp, '/dev/shm']) {
    mountPoint(dir, true);
    mounts.push(tmpfs(dir, input.diskBytes));
  }
  mountPoint(SANDBOX_PATHS.internal, true);
  mounts.push(bind(input.inputDir, SANDBOX_PATHS.internal));
  const config = {
    ociVersion: '1.0.0',
    process: {
      terminal: false,
      user: { uid: SANDBOX_UID_INSIDE, gid: SANDBOX_GID_INSIDE },
      args: [WRAPPER_SHELL, '-c', wrapperScript(input.runtimes, STDIO_CHANNEL), 'sandbox-init', '0'],
      env: Object.entries(baseEnv(false)).map(([k, v]) => `${k}=${v}`),
      cwd: SANDBOX_PATHS.work,
      capabilities: {},
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'sandbox',
    mounts,
    linux: { namespaces: ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type })) },
  };
  writeFileSync(join(input.dir, 'config.json'), JSON.stringify(config));
}
