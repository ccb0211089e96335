import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandbox, type Sandbox, type SandboxOptions } from '@oagf/sandbox';

export const isRoot = process.getuid?.() === 0;

/** A resolver for tests: names under .test map to fixed addresses, anything else fails like NXDOMAIN. */
export function testResolver(map: Record<string, string[]>) {
  return async (host: string) => {
    const found = map[host];
    if (!found) throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
}

export async function withSandbox<T>(options: SandboxOptions, fn: (sandbox: Sandbox) => Promise<T>): Promise<T> {
  const sandbox = await createSandbox(options);
  try {
    return await fn(sandbox);
  } finally {
    await sandbox.close();
  }
}

/** Host processes whose command line contains `marker` (the test asserts none survive). */
export function hostProcessesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) found.push(Number(name));
    } catch {
      // exited
    }
  }
  return found;
}

/** A loopback HTTP server that counts every connection and request it gets. */
export interface Upstream {
  port: number;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

export async function startUpstream(body = 'upstream says hi'): Promise<Upstream> {
  const state = { connections: 0, requests: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    res.end(body);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Leftover cgroup directories of executions (there must be none after a sandbox closed). */
export function leftoverExecutionCgroups(): string[] {
  const own = readFileSync('/proc/self/cgroup', 'utf8').match(/:memory:(.*)$/m)?.[1] ?? '/';
  const dir = `/sys/fs/cgroup/memory${own === '/' ? '' : own}/oagf-sandbox`;
  try {
    return readdirSync(dir).filter((n) => n.startsWith('exec-'));
  } catch {
    return [];
  }
}
