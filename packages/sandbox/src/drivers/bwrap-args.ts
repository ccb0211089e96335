import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { NormalizedRequest } from '../request.js';
import { CODE_FILE, type Runtimes } from '../runtimes.js';
import { FORWARDER_PORT } from '../egress/forwarder.js';

/** Where things are inside the sandbox. */
export const SANDBOX_PATHS = {
  work: '/work',
  tmp: '/tmp',
  internal: '/.sandbox',
  egressSocket: '/.sandbox/egress.sock',
  forwarder: '/.sandbox/forwarder.cjs',
} as const;

export const SANDBOX_UID_INSIDE = 1000;
/** The wrapper needs bash: POSIX sh cannot close descriptors above 9. */
export const WRAPPER_SHELL = '/usr/bin/bash';
export const SANDBOX_GID_INSIDE = 1000;

export interface ReadOnlyMount {
  host: string;
  sandbox: string;
}

export interface HostFiles {
  passwd: string;
  group: string;
  hosts: string;
  forwarder: string;
}

/** Top-level directories that are, on merged-/usr systems, symlinks into /usr (mirrored as such), else bound read-only. */
const ROOT_LINKS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** What of the host's /etc a runtime needs: the dynamic linker's cache, alternatives links, CA certificates, time zone. */
const ETC_READ_ONLY = ['ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'alternatives', 'ssl', 'ca-certificates', 'localtime', 'mime.types'];

function hostEtcExtras(): string[] {
  // Debian's python3 reads /etc/python3.X/sitecustomize.py.
  try {
    return readdirSync('/etc').filter((n) => /^python3(\.\d+)?$/.test(n));
  } catch {
    return [];
  }
}

export function rootFilesystemArgs(extraMounts: ReadOnlyMount[]): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const name of ROOT_LINKS) {
    const path = `/${name}`;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (st.isDirectory()) args.push('--ro-bind', path, path);
  }
  for (const name of [...ETC_READ_ONLY, ...hostEtcExtras()]) {
    if (existsSync(`/etc/${name}`)) args.push('--ro-bind', `/etc/${name}`, `/etc/${name}`);
  }
  for (const m of extraMounts) args.push('--ro-bind', m.host, m.sandbox);
  return args;
}

export interface ArgsInput {
  request: NormalizedRequest;
  runtimes: Runtimes;
  hostFiles: HostFiles;
  /** rootFilesystemArgs(extra mounts), computed once per driver: the host's layout does not change per execution. */
  rootFilesystem: string[];
  /** Host path of this execution's egress socket, when it has network. */
  egressSocket: string | null;
  fds: { seccomp: number; code: number; files: number[] };
}

function programArgv(request: NormalizedRequest, runtimes: Runtimes): string[] {
  const code = `${SANDBOX_PATHS.internal}/${CODE_FILE[request.language]}`;
  if (request.language === 'binary') return [code, ...request.args];
  const runtime = runtimes[request.language];
  if (!runtime) throw new Error(`no ${request.language} runtime found on this host`);
  return [runtime, code, ...request.args];
}

export function sandboxEnv(request: NormalizedRequest, withNetwork: boolean): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: SANDBOX_PATHS.work,
    TMPDIR: SANDBOX_PATHS.tmp,
    LANG: 'C.UTF-8',
    USER: 'sandbox',
    ...request.env,
  };
  if (withNetwork) {
    const proxy = `http://127.0.0.1:${FORWARDER_PORT}`;
    Object.assign(env, { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, ALL_PROXY: proxy, NO_PROXY: '', no_proxy: '' });
  }
  return env;
}

/**
 * The in-sandbox wrapper (bash, pid 2 under bwrap's reaper). It first closes every descriptor but 0-3: bwrap passes
 * on whatever this process inherited without close-on-exec, and the code could reach those through /proc/2/fd. It
 * then sets the per-process limits, starts the egress
 * forwarder, says `ready` on fd 3 and waits for `go` (sent once the host has moved every process into the
 * execution's cgroup), runs the program without fd 3, kills whatever the program left behind, reports `exit N` and
 * waits, so the host can read the work dir while the sandbox still exists.
 */
export function wrapperScript(request: NormalizedRequest, runtimes: Runtimes): string {
  const { limits } = request;
  const cpuSeconds = Math.ceil(limits.cpuTimeMs / 1000) + 1;
  const fileBlocks = Math.ceil(limits.diskBytes / 512);
  return [
    'for f in /proc/$$/fd/*; do n=${f##*/}; case $n in 0|1|2|3) ;; *) [ -e "$f" ] && exec {n}>&- ;; esac; done',
    'net=$1; shift; unset SHLVL',
    'ulimit -c 0',
    `ulimit -H -S -n ${limits.openFiles}`,
    `ulimit -H -S -f ${fileBlocks}`,
    `ulimit -H -S -t ${cpuSeconds}`,
    `if [ "$net" = 1 ]; then ${runtimes.javascript ?? 'node'} ${SANDBOX_PATHS.forwarder} ${SANDBOX_PATHS.egressSocket} </dev/null >/dev/null 2>&1 & fi`,
    'echo ready >&3',
    'read -r go <&3 || exit 125',
    '"$@" 3>&-',
    's=$?',
    'kill -9 -1 2>/dev/null',
    'echo "exit $s" >&3',
    'read -r done <&3',
  ].join('\n');
}

export function bwrapArgs(input: ArgsInput): string[] {
  const { request, hostFiles } = input;
  const size = String(request.limits.diskBytes);
  const withNetwork = input.egressSocket !== null;
  const work = SANDBOX_PATHS.work;
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--hostname', 'sandbox',
    '--uid', String(SANDBOX_UID_INSIDE),
    '--gid', String(SANDBOX_GID_INSIDE),
    ...input.rootFilesystem,
    '--ro-bind', hostFiles.passwd, '/etc/passwd',
    '--ro-bind', hostFiles.group, '/etc/group',
    '--ro-bind', hostFiles.hosts, '/etc/hosts',
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', size, '--tmpfs', '/dev/shm',
    '--size', size, '--tmpfs', SANDBOX_PATHS.tmp,
    '--size', size, '--tmpfs', work,
  ];
  const dirs = new Set<string>();
  const ensureDir = (rel: string) => {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dir === '.' || dirs.has(dir)) continue;
      dirs.add(dir);
      args.push('--dir', posix.join(work, dir));
    }
  };
  request.files.forEach((file, i) => {
    const parent = posix.dirname(file.path);
    if (parent !== '.') ensureDir(parent);
    args.push('--perms', file.executable ? '0755' : '0644', '--file', String(input.fds.files[i]), posix.join(work, file.path));
  });
  if (request.cwd !== '.') ensureDir(request.cwd);
  args.push('--dir', SANDBOX_PATHS.internal);
  args.push('--perms', request.language === 'binary' ? '0555' : '0444', '--ro-bind-data', String(input.fds.code), `${SANDBOX_PATHS.internal}/${CODE_FILE[request.language]}`);
  if (withNetwork) {
    args.push('--ro-bind', hostFiles.forwarder, SANDBOX_PATHS.forwarder);
    args.push('--bind', input.egressSocket!, SANDBOX_PATHS.egressSocket);
  }
  args.push('--chdir', posix.join(work, request.cwd));
  args.push('--clearenv');
  for (const [name, value] of Object.entries(sandboxEnv(request, withNetwork))) args.push('--setenv', name, value);
  args.push('--seccomp', String(input.fds.seccomp));
  args.push('--', WRAPPER_SHELL, '-c', wrapperScript(request, input.runtimes), 'sandbox-init', withNetwork ? '1' : '0', ...programArgv(request, input.runtimes));
  return args;
}
