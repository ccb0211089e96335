import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import type { NormalizedRequest } from '../request.js';
import { CODE_FILE, type Runtimes } from '../runtimes.js';
import { FORWARDER_PORT } from '../egress/forwarder.js';

/** Where things are inside the sandbox. */
export const SANDBOX_PATHS = {
  work: '/work',
  tmp: '/tmp',
  /** The execution's inputs (code, argv, env, files to copy into /work): a host directory, bound read-only. */
  internal: '/.sandbox',
  egressSocket: '/.egress/egress.sock',
  forwarder: '/.egress/forwarder.cjs',
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

/** What of the host the sandbox sees: read-only binds (paths the same inside) and symlinks, whatever the driver. */
export type RootEntry = { kind: 'bind'; host: string; sandbox: string } | { kind: 'symlink'; target: string; sandbox: string };

export function rootFilesystem(extraMounts: ReadOnlyMount[]): RootEntry[] {
  const entries: RootEntry[] = [{ kind: 'bind', host: '/usr', sandbox: '/usr' }];
  for (const name of ROOT_LINKS) {
    const path = `/${name}`;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) entries.push({ kind: 'symlink', target: readlinkSync(path), sandbox: path });
    else if (st.isDirectory()) entries.push({ kind: 'bind', host: path, sandbox: path });
  }
  for (const name of [...ETC_READ_ONLY, ...hostEtcExtras()]) {
    if (existsSync(`/etc/${name}`)) entries.push({ kind: 'bind', host: `/etc/${name}`, sandbox: `/etc/${name}` });
  }
  for (const m of extraMounts) entries.push({ kind: 'bind', host: m.host, sandbox: m.sandbox });
  return entries;
}

export function rootFilesystemArgs(extraMounts: ReadOnlyMount[]): string[] {
  return rootFilesystem(extraMounts).flatMap((e) => (e.kind === 'bind' ? ['--ro-bind', e.host, e.sandbox] : ['--symlink', e.target, e.sandbox]));
}

export interface ArgsInput {
  /** Size of each tmpfs (/work, /tmp, /dev/shm). */
  diskBytes: number;
  runtimes: Runtimes;
  hostFiles: HostFiles;
  /** rootFilesystemArgs(extra mounts), computed once per driver: the host's layout does not change per execution. */
  rootFilesystem: string[];
  /** Host path of this execution's egress socket, when it has network. */
  egressSocket: string | null;
  /** Host directory bound read-only at /.sandbox, filled with the execution's inputs before `go`. */
  inputDir: string;
  seccompFd: number;
}

export function programArgv(request: NormalizedRequest, runtimes: Runtimes): string[] {
  const code = `${SANDBOX_PATHS.internal}/${CODE_FILE[request.language]}`;
  if (request.language === 'binary') return [code, ...request.args];
  const runtime = runtimes[request.language];
  if (!runtime) throw new Error(`no ${request.language} runtime found on this host`);
  return [runtime, code, ...request.args];
}

/** What every execution's environment starts with (bwrap sets it; the request's variables come on top). */
export function baseEnv(withNetwork: boolean): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: SANDBOX_PATHS.work,
    TMPDIR: SANDBOX_PATHS.tmp,
    LANG: 'C.UTF-8',
    USER: 'sandbox',
  };
  if (withNetwork) {
    const proxy = `http://127.0.0.1:${FORWARDER_PORT}`;
    Object.assign(env, { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, ALL_PROXY: proxy, NO_PROXY: '', no_proxy: '' });
  }
  return env;
}

/** The request's variables as a script the wrapper sources just before it runs the program (single-quoted values). */
export function envScript(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${name}='${value.replace(/'/g, `'\\''`)}'\n`)
    .join('');
}

/** The `go` line: the per-process limits the wrapper sets before it runs the program. */
export function goLine(request: NormalizedRequest): string {
  const { limits } = request;
  return `go ${limits.openFiles} ${Math.ceil(limits.diskBytes / 512)} ${Math.ceil(limits.cpuTimeMs / 1000) + 1}`;
}

/**
 * How the wrapper talks to the host: where it says `ready`, where it reads `go`, how it ends. bwrap passes fd 3 (a
 * socket) and the wrapper reports the exit code there, then waits while the host reads the work dir; under gVisor
 * only stdio crosses, so `ready` is the first line of stdout, `go` the first line of stdin (read byte by byte, the
 * rest is the program's), and the exit code is the container's.
 */
export interface WrapperChannel {
  in: number;
  out: number;
  end: string[];
}

export const FD3_CHANNEL: WrapperChannel = { in: 3, out: 3, end: ['echo "exit $s" >&3', 'read -r done <&3'] };
export const STDIO_CHANNEL: WrapperChannel = { in: 0, out: 1, end: ['exit $s'] };

/**
 * The in-sandbox wrapper (bash, pid 2 under bwrap's reaper). It knows nothing of the execution when it starts, so a
 * sandbox can be prepared before its request arrives. It first closes every descriptor but 0-3: bwrap passes on
 * whatever this process inherited without close-on-exec, and the code could reach those through /proc/2/fd. It
 * starts the egress forwarder, says `ready` on fd 3 and waits for `go` with the per-process limits (sent once the
 * host has moved every process into the execution's cgroup and written the code, the files, `argv` — working dir and
 * program, NUL-separated — and `env` into /.sandbox). It sets the limits, copies the files into the work dir (so
 * they are the sandbox user's and count against its size), enters the working dir, exports the
 * variables only then (so none of them, e.g. BASH_ENV, is interpreted by the wrapper's own start), runs the program
 * without fd 3, kills whatever the program left behind, reports `exit N` and waits, so the host can read the work
 * dir while the sandbox still exists.
 */
export function wrapperScript(runtimes: Runtimes, channel: WrapperChannel = FD3_CHANNEL): string {
  const internal = SANDBOX_PATHS.internal;
  return [
    'for f in /proc/$$/fd/*; do n=${f##*/}; case $n in 0|1|2|3) ;; *) [ -e "$f" ] && exec {n}>&- ;; esac; done',
    'net=$1; unset SHLVL f n',
    'ulimit -c 0',
    `if [ "$net" = 1 ]; then ${runtimes.javascript ?? 'node'} ${SANDBOX_PATHS.forwarder} ${SANDBOX_PATHS.egressSocket} </dev/null >/dev/null 2>&1 & fi`,
    `echo ready >&${channel.out}`,
    `read -r go nofile fsize cpu <&${channel.in} && [ "$go" = go ] || exit 125`,
    'ulimit -H -S -n "$nofile" && ulimit -H -S -f "$fsize" && ulimit -H -S -t "$cpu" || exit 125',
    `mapfile -d '' -t argv < ${internal}/argv || exit 125`,
    `if [ -d ${internal}/files ]; then cp -R ${internal}/files/. ${SANDBOX_PATHS.work}/ || exit 125; fi`,
    'cd -- "${argv[0]}" || exit 125',
    'set -- "${argv[@]:1}"',
    'unset argv go nofile fsize cpu net OLDPWD',
    `. ${internal}/env || exit 125`,
    '"$@" 3>&-',
    's=$?',
    'kill -9 -1 2>/dev/null',
    ...channel.end,
  ].join('\n');
}

/** bwrap's arguments for a sandbox of this size and network: nothing of the request's code, files or environment. */
export function bwrapArgs(input: ArgsInput): string[] {
  const { hostFiles } = input;
  const size = String(input.diskBytes);
  const withNetwork = input.egressSocket !== null;
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
    '--size', size, '--tmpfs', SANDBOX_PATHS.work,
    '--ro-bind', input.inputDir, SANDBOX_PATHS.internal,
  ];
  if (withNetwork) {
    args.push('--ro-bind', hostFiles.forwarder, SANDBOX_PATHS.forwarder);
    args.push('--bind', input.egressSocket!, SANDBOX_PATHS.egressSocket);
  }
  args.push('--chdir', SANDBOX_PATHS.work);
  args.push('--clearenv');
  for (const [name, value] of Object.entries(baseEnv(withNetwork))) args.push('--setenv', name, value);
  args.push('--seccomp', String(input.seccompFd));
  args.push('--', WRAPPER_SHELL, '-c', wrapperScript(input.runtimes), 'sandbox-init', withNetwork ? '1' : '0');
  return args;
}
