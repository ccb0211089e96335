/**
 * npm run bench:mcp — the gatekeeper's added latency and throughput per MCP tools/call.
 *
 * In one run, on 127.0.0.1: server-everything over Streamable HTTP (own process) is called with the official SDK
 * Client (Streamable HTTP transport, `echo`) directly, and through the gatekeeper (`gatekeeper serve` from its
 * build, own process: the OAGF standard library, the SQLite ledger with `buffered` durability, an HTTP upstream to
 * the same server). Every call through the gatekeeper is one decision record before the call and one outcome record
 * after. Measured: latency per call at concurrency 1 (p50/p99, alternating direct and gated rounds so both see the
 * same machine), CPU time per call of the gatekeeper (at c=1 and under load) and of the upstream process, and calls/s with BENCH_CONCURRENCY clients back to back (closed loop).
 *
 * Env: BENCH_CALLS (2000 per side at c=1), BENCH_SECONDS (5 per side under load), BENCH_CONCURRENCY (16),
 * BENCH_PROFILE=1 (gatekeeper --cpu-prof into $TMPDIR/bench-mcp-profiles/<side>), BENCH_BASELINE=<another build's
 * dist/cli.js> (measured as side `baseline` in the same run, to compare a change). The last line is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
/** Another gatekeeper build (its dist/cli.js) measured in the same run, e.g. main's, to compare a change. */
const BASELINE = process.env.BENCH_BASELINE;

const children: ChildProcess[] = [];
const stopAll = () => children.forEach((c) => c.kill('SIGTERM'));
process.on('exit', stopAll);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mcp-'));
  try {
    const upstreamPort = await freePort();
    const upstream = await start(process.execPath, [EVERYTHING, 'streamableHttp'], { PORT: String(upstreamPort) }, 'listening');
    const direct = `http://127.0.0.1:${upstreamPort}/mcp`;
    writeFileSync(join(dir, 'ledger.skey'), generateKey('bench.local/ledger').skey);
    writeFileSync(join(dir, 'data.yaml'), stringify({ config: { agents: { bench: { mcp: { servers: { everything: { tools: ['echo'] } } } } } } }));
    const gates: Gate[] = [await serveGatekeeper('gated', join(root, 'packages/gatekeeper/dist/cli.js'), dir, direct)];
    if (BASELINE) gates.push(await serveGatekeeper('baseline', resolve(BASELINE), dir, direct));

    const sides: Side[] = [{ name: 'direct', client: await connect(direct), url: direct, latencies: [], cpuMs: 0, sysCpuMs: 0, upstreamCpuMs: 0 }];
    for (const g of gates) sides.push({ name: g.name, client: await connect(g.url), url: g.url, gate: g.child, latencies: [], cpuMs: 0, sysCpuMs: 0, upstreamCpuMs: 0 });
    for (const side of sides) for (let i = 0; i < 200; i++) await echo(side.client); // warm-up
    // Rounds alternate between the sides so that all see the same machine. CPU time per process is counted too:
    // on a busy host it is steadier than wall-clock latency.
    for (let round = 0; round < 10; round++) {
      for (const side of sides) {
        const before = { gate: side.gate ? cpuMs(side.gate) : 0, sys: side.gate ? cpuMs(side.gate, 'system') : 0, upstream: cpuMs(upstream) };
        for (let i = 0; i < CALLS / 10; i++) side.latencies.push(await timed(side.client));
        if (side.gate) side.cpuMs += cpuMs(side.gate) - before.gate;
        if (side.gate) side.sysCpuMs += cpuMs(side.gate, 'system') - before.sys;
        side.upstreamCpuMs += cpuMs(upstream) - before.upstream;
      }
    }
    // Under load too the sides take turns, one second each, so a busy spell of the host hits all of them.
    const loads = await Promise.all(sides.map((side) => loadClients(side.url)));
    const totals = sides.map(() => ({ done: 0, ms: 0, cpuMs: 0 }));
    for (let second = 0; second < SECONDS; second++) {
      for (const [i, clients] of loads.entries()) {
        const gate = sides[i]!.gate;
        const before = gate ? cpuMs(gate) : 0;
        const slice = await load(clients, 1000);
        totals[i]!.done += slice.done;
        totals[i]!.ms += slice.ms;
        if (gate) totals[i]!.cpuMs += cpuMs(gate) - before;
      }
    }
    sides.forEach((side, i) => {
      side.rate = totals[i]!.done / (totals[i]!.ms / 1000);
      side.loadCpuMs = totals[i]!.cpuMs / totals[i]!.done;
    });
    await Promise.all(loads.flat().map((c) => c.close()));
    const [d, ...gated] = sides.map((side) => ({ side, ...pct(side.latencies) }));
    const figures: Record<string, unknown> = {
      calls_at_c1: CALLS,
      concurrency: CONCURRENCY,
      direct_p50_ms: r(d!.p50),
      direct_p99_ms: r(d!.p99),
      direct_calls_per_s: Math.round(d!.side.rate!),
      upstream_cpu_ms_per_call_direct: r(d!.side.upstreamCpuMs / CALLS),
    };
    console.log(`c=1 direct p50 ${r(d!.p50)} ms p99 ${r(d!.p99)} ms · c=${CONCURRENCY} direct ${Math.round(d!.side.rate!)}/s · upstream CPU ${r(d!.side.upstreamCpuMs / CALLS)} ms/call`);
    for (const g of gated) {
      const n = g.side.name;
      Object.assign(figures, {
        [`${n}_p50_ms`]: r(g.p50),
        [`${n}_p99_ms`]: r(g.p99),
        [`${n}_added_p50_ms`]: r(g.p50 - d!.p50),
        [`${n}_added_p99_ms`]: r(g.p99 - d!.p99),
        [`${n}_gatekeeper_cpu_ms_per_call`]: r(g.side.cpuMs / CALLS),
        [`${n}_gatekeeper_system_cpu_ms_per_call`]: r(g.side.sysCpuMs / CALLS),
        [`${n}_upstream_cpu_ms_per_call`]: r(g.side.upstreamCpuMs / CALLS),
        [`${n}_gatekeeper_cpu_ms_per_call_under_load`]: r(g.side.loadCpuMs!),
        [`${n}_calls_per_s`]: Math.round(g.side.rate!),
        [`${n}_throughput_ratio`]: r(g.side.rate! / d!.side.rate!),
      });
      console.log(`${n}: c=1 p50 ${r(g.p50)} ms p99 ${r(g.p99)} ms · added p50 ${r(g.p50 - d!.p50)} ms (target ≤ 0.5) p99 ${r(g.p99 - d!.p99)} ms (target ≤ 2)`);
      console.log(`${n}: gatekeeper CPU ${r(g.side.cpuMs / CALLS)} ms/call, of it kernel ${r(g.side.sysCpuMs / CALLS)} (c=${CONCURRENCY}: ${r(g.side.loadCpuMs!)}) · c=${CONCURRENCY} ${Math.round(g.side.rate!)}/s, ratio to direct ${r(g.side.rate! / d!.side.rate!)} (target ≥ 0.5)`);
    }
    figures.loadavg = loadavg().map(r);
    console.log(JSON.stringify(figures));
    await Promise.all(sides.map((side) => side.client.close()));
  } finally {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Gate {
  name: string;
  url: string;
  child: ChildProcess;
}

interface Side {
  name: string;
  client: Client;
  url: string;
  gate?: ChildProcess;
  latencies: number[];
  cpuMs: number;
  /** The part of cpuMs spent in the kernel (socket reads and writes, thread wake-ups). */
  sysCpuMs: number;
  upstreamCpuMs: number;
  rate?: number;
  /** Gatekeeper CPU time per call during the load phase. */
  loadCpuMs?: number;
}

/** `gatekeeper serve` from a build, with the standard library, a buffered SQLite ledger and the upstream over HTTP. */
async function serveGatekeeper(name: string, cli: string, dir: string, upstream: string): Promise<Gate> {
  const port = await freePort();
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    stringify({
      listen: `127.0.0.1:${port}`,
      agents: [{ id: 'bench', api_keys: [hashApiKey(KEY)] }],
      policy: { bundle: [join(root, 'policies'), dir], watch: false },
      ledger: { path: join(dir, `${name}-ledger.db`), signing_key_file: join(dir, 'ledger.skey'), durability: 'buffered' },
      logging: { level: 'warn' },
      mcp: { servers: { everything: { http: { url: upstream } } } },
    }),
  );
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'bench-mcp-profiles', name)}`] : [];
  const child = await start(process.execPath, [...profile, cli, 'serve', '--config', config], {}, 'gatekeeper listening');
  return { name, url: `http://127.0.0.1:${port}/mcp/everything`, child };
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

const loadClients = (url: string) => Promise.all(Array.from({ length: CONCURRENCY }, () => connect(url)));

/** Calls done in `ms` by the clients, each waiting for its answer before the next call (closed loop). */
async function load(clients: Client[], ms: number): Promise<{ done: number; ms: number }> {
  let done = 0;
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < until) {
        await echo(c);
        done++;
      }
    }),
  );
  return { done, ms: performance.now() - started };
}

function pct(values: number[]): { p50: number; p99: number } {
  const s = [...values].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.floor(s.length * 0.99)]! };
}

const r = (n: number) => Math.round(n * 1000) / 1000;

/** User + system (or only system) CPU time of a child process so far (Linux /proc). */
function cpuMs(child: ChildProcess, only?: 'system'): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (((only ? 0 : Number(fields[11])) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

function start(cmd: string, args: string[], env: Record<string, string>, ready: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let seen = '';
    const look = (chunk: Buffer) => {
      seen += chunk;
      if (seen.includes(ready)) resolve(child);
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
