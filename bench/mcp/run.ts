/**
 * npm run bench:mcp — the gatekeeper's added latency and throughput per MCP tools/call.
 *
 * In one run, on 127.0.0.1: server-everything over Streamable HTTP (own process) is called with the official SDK
 * Client (Streamable HTTP transport, `echo`) directly, and through the gatekeeper (`gatekeeper serve` from its
 * build, own process: the OAGF standard library, the SQLite ledger with `buffered` durability, an HTTP upstream to
 * the same server). Every call through the gatekeeper is one decision record before the call and one outcome record
 * after. Measured: latency per call at concurrency 1 (p50/p99, alternating direct and gated rounds so both see the
 * same machine), and calls/s with BENCH_CONCURRENCY clients back to back (closed loop).
 *
 * Env: BENCH_CALLS (2000 per side at c=1), BENCH_SECONDS (5 per side under load), BENCH_CONCURRENCY (16),
 * BENCH_PROFILE=1 (gatekeeper --cpu-prof into $TMPDIR/bench-mcp-profiles). The last line is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { generateKey } from '@oagf/ledger';
import { stringify } from 'yaml';
import { hashApiKey } from '../../packages/gatekeeper/src/auth/agents.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'packages/gatekeeper/package.json'));
const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const KEY = 'bench-mcp-agent-key';

const children: ChildProcess[] = [];
const stopAll = () => children.forEach((c) => c.kill('SIGTERM'));
process.on('exit', stopAll);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mcp-'));
  try {
    const upstreamPort = await freePort();
    await start(process.execPath, [EVERYTHING, 'streamableHttp'], { PORT: String(upstreamPort) }, 'listening');
    const direct = `http://127.0.0.1:${upstreamPort}/mcp`;
    const gatePort = await freePort();
    writeFileSync(join(dir, 'ledger.skey'), generateKey('bench.local/ledger').skey);
    writeFileSync(join(dir, 'data.yaml'), stringify({ config: { agents: { bench: { mcp: { servers: { everything: { tools: ['echo'] } } } } } } }));
    writeFileSync(
      join(dir, 'gatekeeper.yaml'),
      stringify({
        listen: `127.0.0.1:${gatePort}`,
        agents: [{ id: 'bench', api_keys: [hashApiKey(KEY)] }],
        policy: { bundle: [join(root, 'policies'), dir], watch: false },
        ledger: { path: join(dir, 'ledger.db'), signing_key_file: join(dir, 'ledger.skey'), durability: 'buffered' },
        logging: { level: 'warn' },
        mcp: { servers: { everything: { http: { url: direct } } } },
      }),
    );
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'bench-mcp-profiles')}`] : [];
    await start(process.execPath, [...profile, join(root, 'packages/gatekeeper/dist/cli.js'), 'serve', '--config', join(dir, 'gatekeeper.yaml')], {}, 'gatekeeper listening');
    const gated = `http://127.0.0.1:${gatePort}/mcp/everything`;

    const sides = { direct: await connect(direct), gated: await connect(gated) };
    for (const c of Object.values(sides)) for (let i = 0; i < 200; i++) await echo(c); // warm-up
    const lat = { direct: [] as number[], gated: [] as number[] };
    for (let round = 0; round < 10; round++) {
      for (const side of ['direct', 'gated'] as const) for (let i = 0; i < CALLS / 10; i++) lat[side].push(await timed(sides[side]));
    }
    const throughput = { direct: await load(direct), gated: await load(gated) };
    const d = pct(lat.direct);
    const g = pct(lat.gated);
    const figures = {
      calls_at_c1: CALLS,
      direct_p50_ms: r(d.p50),
      direct_p99_ms: r(d.p99),
      gated_p50_ms: r(g.p50),
      gated_p99_ms: r(g.p99),
      added_p50_ms: r(g.p50 - d.p50),
      added_p99_ms: r(g.p99 - d.p99),
      concurrency: CONCURRENCY,
      direct_calls_per_s: Math.round(throughput.direct),
      gated_calls_per_s: Math.round(throughput.gated),
      throughput_ratio: r(throughput.gated / throughput.direct),
      loadavg: loadavg().map(r),
    };
    console.log(`c=1 direct p50 ${figures.direct_p50_ms} ms p99 ${figures.direct_p99_ms} ms · gated p50 ${figures.gated_p50_ms} ms p99 ${figures.gated_p99_ms} ms`);
    console.log(`added p50 ${figures.added_p50_ms} ms (target ≤ 0.5) · added p99 ${figures.added_p99_ms} ms (target ≤ 2)`);
    console.log(`c=${CONCURRENCY}: direct ${figures.direct_calls_per_s}/s · gated ${figures.gated_calls_per_s}/s · ratio ${figures.throughput_ratio} (target ≥ 0.5)`);
    console.log(JSON.stringify(figures));
    await Promise.all(Object.values(sides).map((c) => c.close()));
  } finally {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
  return client;
}

const echo = (c: Client) => c.callTool({ name: 'echo', arguments: { message: 'bench' } });

async function timed(c: Client): Promise<number> {
  const t = performance.now();
  const res = await echo(c);
  if (res.isError) throw new Error(`call failed: ${JSON.stringify(res.content)}`);
  return performance.now() - t;
}

/** Calls per second with CONCURRENCY clients, each waiting for its answer before the next call. */
async function load(url: string): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => connect(url)));
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(clients.map(async (c) => {
    while (performance.now() < until) {
      await echo(c);
      done++;
    }
  }));
  const rate = done / ((performance.now() - started) / 1000);
  await Promise.all(clients.map((c) => c.close()));
  return rate;
}

function pct(values: number[]): { p50: number; p99: number } {
  const s = [...values].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.floor(s.length * 0.99)]! };
}

const r = (n: number) => Math.round(n * 1000) / 1000;

function start(cmd: string, args: string[], env: Record<string, string>, ready: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let seen = '';
    const look = (chunk: Buffer) => {
      seen += chunk;
      if (seen.includes(ready)) resolve();
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${seen.slice(-500)}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

await main();
