import { spawn } from 'node:child_process';
import { rootFilesystemArgs } from '../../packages/sandbox/src/drivers/bwrap-args.js';
const root = rootFilesystemArgs([]);
const asRoot = { uid: 65534, gid: 65534 };
function run(argv: string[], opts: object = {}): Promise<void> {
  return new Promise((res, rej) => { const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: {}, cwd: '/', ...opts }); c.stdout.resume(); c.stderr.on('data', d => process.stderr.write(d)); c.once('close', (code) => code === 0 ? res() : rej(new Error(argv.join(' ') + ' ' + code))); });
}
const base = ['/usr/bin/bwrap', '--die-with-parent', '--new-session'];
const variants: Record<string, string[]> = {
  plain_true: ['/usr/bin/true'],
  plain_py: ['/usr/bin/python3', '-c', 'pass'],
  bw_user_only: [...base, '--unshare-user', ...root, '--', '/usr/bin/true'],
  bw_all: [...base, '--unshare-all', '--unshare-user', '--disable-userns', ...root, '--', '/usr/bin/true'],
  bw_all_nonet: [...base, '--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup', '--disable-userns', ...root, '--', '/usr/bin/true'],
  bw_all_procdev: [...base, '--unshare-all', '--unshare-user', '--disable-userns', ...root, '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/true'],
  bw_all_tmpfs: [...base, '--unshare-all', '--unshare-user', '--disable-userns', ...root, '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/work', '--tmpfs', '/tmp', '--tmpfs', '/dev/shm', '--', '/usr/bin/true'],
  bw_all_bash: [...base, '--unshare-all', '--unshare-user', '--disable-userns', ...root, '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/work', '--tmpfs', '/tmp', '--tmpfs', '/dev/shm', '--', '/usr/bin/bash', '-c', 'true'],
  bw_all_py: [...base, '--unshare-all', '--unshare-user', '--disable-userns', ...root, '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/work', '--tmpfs', '/tmp', '--tmpfs', '/dev/shm', '--', '/usr/bin/python3', '-c', 'pass'],
};
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const times: Record<string, number[]> = {};
for (let i = 0; i < 30; i++) for (const [k, v] of Object.entries(variants)) { const t = performance.now(); await run(v, k.startsWith('plain') ? {} : asRoot); (times[k] ??= []).push(performance.now() - t); }
for (const [k, v] of Object.entries(times)) console.log(k.padEnd(16), med(v).toFixed(2));
