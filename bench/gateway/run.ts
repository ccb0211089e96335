/**
 * npm run bench:gateway — what the gatekeeper costs per request on the OpenAI-compatible surface, against the same
 * local upstream reached directly, through a bare node:http + undici pass-through (bare-proxy.ts: the floor of any
 * Node.js gateway on this machine) and through @portkey-ai/gateway as a pass-through peer, all in one run.
 *
 * The gatekeeper runs `gatekeeper serve` from its compiled build (tsc -b first; the sources through tsx if the
 * build fails, and it says so) with the OAGF standard policy library and the SQLite ledger; a non-streamed chat
 * completion whose response carries one tool call, so every request takes two decisions and the ledger records
 * them and the outcome. Rows: `fsync` (the default durability: each group commit waits for the disk) and `buffered`
 * (survives a process crash, not power loss), one process each (`--workers 1`); `buffered` with one worker per core
 * (`--workers N`: N processes, one ledger sequencer); and two single-process replicas sharing one state directory
 * (the first serves its ledger to the second, `--ledger-socket`/`--ledger-host`) behind a round-robin TCP balancer
 * (round-robin.ts; its CPU counts in the row); and, when PostgreSQL answers (BENCH_PG_URL, default the tests'
 * 127.0.0.1:5432/test), two replicas on one schema (`storage.postgres`, dropped after) behind the same balancer — the
 * database server's own CPU is not counted in that row.
 *
 * Per row: c=1 latency (wrk, one connection: p50/p99, and added = row − direct), an open loop at BENCH_RATE that
 * sleeps between sends, closed-loop wrk at c=32 and c=64 (req/s) and CPU time per request of the gateway process
 * and its descendants (from /proc, over the c=32 run: unlike latency it stays meaningful on a busy machine). With
 * 2+ cores single-process gateways are pinned to CPU 0 and wrk, the upstream and this process to the others
 * (taskset); the multi-process rows may use every core, so there the load generator shares them. Also
 * the machine's fdatasync p50 (the floor of an `fsync` commit) and the time to the first text byte of a stream.
 * Prints one table, then the ratios the issue asks for; the last line is one JSON object with every figure.
 *
 * With --session, one more row (buffered, one process) runs with session state on: `sessions:` keeping 20 actions per
 * session, every request in one session (OAGF-Session, sent to the plain buffered row too), the standard library's
 * session rules configured (the tool's results labelled, egress, destructive tools); its CPU per request is compared
 * with the buffered gatekeeper's (`session_cpu_ratio_vs_off`).
 *
 * `--quick`: one-second runs (CI smoke: figures printed, meaningless). Env: BENCH_SECONDS (5), BENCH_RATE (500),
 * BENCH_PROFILE=1 (gatekeeper rows run with --cpu-prof into $TMPDIR/bench-gateway-profiles).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AGENT_KEY, chatBody, UPSTREAM_KEY, writeGatekeeperConfig } from './gatekeeper-config.js';
import { QUICK, sized } from '../quick.js';
import { openLoop, timeToFirstText, type Percentiles, type Target } from './load.js';
import { cpuMs, cpuSets, hasTaskset, pin, start, stopAll, type Started } from './procs.js';
import { wrk, type WrkResult } from './wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const SECONDS = sized('BENCH_SECONDS', 5, 1);
const RATE = sized('BENCH_RATE', 500, 100);
const CORES = availableParallelism();
const CPUS = cpuSets(CORES);

const SESSION = process.argv.includes('--session');

/** PostgreSQL for the replicas-on-a-database row (as the tests use it); the row is left out when it cannot be reached. */
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pgQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}



function target(name: string, origin: string, headers: Record<string, string>, stream = false): Target {
  return { name, origin, path: '/v1/chat/completions', headers: { 'content-type': 'application/json', ...headers }, body: chatBody(stream) };
}

/** One request through a target, checked: the response must carry the (allowed) tool call. */
async function check(t: Target): Promise<void> {
  const res = await fetch(`${t.origin}${t.path}`, { method: 'POST', headers: t.headers, body: t.body });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('lookup_stock')) throw new Error(`${t.name}: unexpected response ${res.status}: ${text.slice(0, 400)}`);
}

/** Compiles the packages (tsc -b) so the gatekeeper runs as deployed; false when the build fails. */
function build(): boolean {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', 'packages/rego', 'packages/ledger', 'packages/gatekeeper'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) console.log(`build failed:\n${(r.stdout + r.stderr).slice(0, 2000)}`);
  return r.status === 0;
}

/** The p50 of one 4 KiB write + fdatasync in `dir` (the ledger's file system): the floor of a durable commit. */
function fdatasyncP50(dir: string, samples = QUICK ? 50 : 300): number {
  const file = join(dir, 'fdatasync.probe');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface Row {
  target: Target;
  /** The processes whose CPU time (with their descendants) is the row's cost; none for direct. */
  pids?: number[];
  /** What the row is, for the table. */
  label: string;
}

interface RowFigures {
  c1: WrkResult;
  open: Percentiles;
  c32: WrkResult;
  c64: WrkResult;
  cpu_us_per_request?: number;
  cpu_us_per_request_c64?: number;
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;
const r0 = (n: number) => Math.round(n);

async function measure(row: Row, scratch: string): Promise<RowFigures> {
  const pids = row.pids ?? [];
  const cpuNow = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const c1 = await wrk(row.target, { connections: 1, seconds: SECONDS, cpus: CPUS.load, scratch });
  const open = await openLoop(row.target, RATE, SECONDS);
  let cpu = cpuNow();
  const c32 = await wrk(row.target, { connections: 32, seconds: SECONDS, cpus: CPUS.load, scratch });
  const cpuC32 = pids.length ? ((cpuNow() - cpu) * 1000) / c32.requests : undefined;
  cpu = cpuNow();
  const c64 = await wrk(row.target, { connections: 64, seconds: SECONDS, cpus: CPUS.load, scratch });
  const cpuC64 = pids.length ? ((cpuNow() - cpu) * 1000) / c64.requests : undefined;
  return { c1, open, c32, c64, ...(cpuC32 !== undefined ? { cpu_us_per_request: cpuC32, cpu_us_per_request_c64: cpuC64! } : {}) };
}

function table(rows: Row[], figures: Record<string, RowFigures>): string {
  const direct = figures.direct!;
  const head = ['row', 'c=1 p50 ms', 'c=1 p99 ms', 'added p50', 'added p99', `open ${RATE}/s p50/p99 ms`, 'c=32 req/s', 'c=64 req/s', 'CPU µs/req', 'errors'];
  const lines = rows.map((row) => {
    const f = figures[row.target.name]!;
    const errors = f.c1.errors + f.open.errors + f.c32.errors + f.c64.errors;
    return [
      row.label,
      r3(f.c1.p50),
      r3(f.c1.p99),
      row.target.name === 'direct' ? '—' : r3(f.c1.p50 - direct.c1.p50),
      row.target.name === 'direct' ? '—' : r3(f.c1.p99 - direct.c1.p99),
      `${r3(f.open.p50)} / ${r3(f.open.p99)}`,
      r0(f.c32.rps),
      r0(f.c64.rps),
      f.cpu_us_per_request === undefined ? '—' : r0(f.cpu_us_per_request),
      errors,
    ].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [fmt(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...lines.map(fmt)].join('\n');
}

let dropSchema: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  pin(process.pid, CPUS.load);
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  const uptime = spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
  console.log(`bench:gateway on ${process.version}, ${CORES} cores; ${uptime}`);
  console.log(
    CPUS.gateway && hasTaskset
      ? `pinned: single-process gateways on CPU ${CPUS.gateway}; wrk, the upstream and this process on CPU ${CPUS.load}`
      : 'not pinned (one core, or no taskset): load generator and gateway share the CPUs',
  );
  console.log(`${SECONDS} s per measure${QUICK ? ' (--quick: figures are not measurements)' : ''}`);
  const work = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  try {
    const fdatasync = fdatasyncP50(work);
    console.log(`fdatasync p50 (4 KiB, ${work}): ${r3(fdatasync)} ms`);
    const upstreamStarted = await start('upstream', ['--import', 'tsx', join(here, 'upstream.ts')], /^(\d+)$/m, {}, root);
    pin(upstreamStarted.pid, CPUS.load);
    const upstream = `http://127.0.0.1:${upstreamStarted.match[1]}`;
    const upstreamPort = Number(upstreamStarted.match[1]);
    const profileDir = join(tmpdir(), 'bench-gateway-profiles');
    const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    if (profile.length) console.log(`gatekeeper CPU profile: ${profileDir}`);
    const built = build();
    const cli = built ? [join(root, 'packages/gatekeeper/dist/cli.js')] : ['--import', 'tsx', '--conditions=development', join(root, 'packages/gatekeeper/src/cli.ts')];
    console.log(built ? 'gatekeeper: compiled build (dist/), as deployed' : 'gatekeeper: the build failed; running the TypeScript sources through tsx (slower)');

    const serve = async (name: string, dir: string, durability: 'fsync' | 'buffered', cpus: string | undefined, args: string[], sessions = false, extra: string[] = []): Promise<Started> => {
      const started = await start(
        name,
        [...profile, ...cli, 'serve', '--config', writeGatekeeperConfig(dir, upstreamPort, durability, sessions, extra), '--generate-key', ...args],
        /gatekeeper listening on (http:\/\/[^\s]+)/,
        { BENCH_UPSTREAM_KEY: UPSTREAM_KEY },
        dir,
      );
      pin(started.pid, cpus);
      return started;
    };
    const agent = { authorization: `Bearer ${AGENT_KEY}` };
    // One session for every request: with session state on, each decision sees the 20 actions kept before it.
    const sessionHeader = SESSION ? { 'oagf-session': 'bench-session' } : {};
    const gatekeeper = async (name: string, durability: 'fsync' | 'buffered', label: string, cpus: string | undefined, workers: number, sessions = false): Promise<Row> => {
      const started = await serve(name, join(work, name), durability, cpus, ['--workers', String(workers)], sessions);
      const headers = name === 'gk_buffered' || sessions ? { ...agent, ...sessionHeader } : agent;
      return { label, pids: [started.pid], target: target(name, started.match[1]!, headers) };
    };
    /** Two single-process replicas sharing one state directory: the first serves its ledger to the second. */
    const replicas = async (): Promise<Row> => {
      const dir = join(work, 'gk_2replicas');
      const socket = join(dir, 'ledger.sock');
      const a = await serve('replica A', dir, 'buffered', CPUS.all, ['--workers', '1', '--ledger-socket', socket]);
      const b = await serve('replica B', dir, 'buffered', CPUS.all, ['--workers', '1', '--ledger-host', socket]);
      const port = (s: Started) => new URL(s.match[1]!).port;
      const rr = await start('round-robin', ['--import', 'tsx', join(here, 'round-robin.ts'), port(a), port(b)], /^(\d+)$/m, {}, root);
      return { label: '2 replicas (buffered) + round-robin', pids: [a.pid, b.pid, rr.pid], target: target('gk_2replicas', `http://127.0.0.1:${rr.match[1]}`, agent) };
    };
    /** Two single-process replicas on one PostgreSQL schema (storage.postgres) behind the same balancer. */
    const pgReplicas = async (schema: string): Promise<Row> => {
      const dir = join(work, 'gk_2replicas_pg');
      const storage = [`storage: { postgres: { url: "${PG_URL}", schema: ${schema} } }`];
      const a = await serve('replica A (PostgreSQL)', dir, 'fsync', CPUS.all, ['--workers', '1'], false, storage);
      const b = await serve('replica B (PostgreSQL)', dir, 'fsync', CPUS.all, ['--workers', '1'], false, storage);
      const port = (s: Started) => new URL(s.match[1]!).port;
      const rr = await start('round-robin', ['--import', 'tsx', join(here, 'round-robin.ts'), port(a), port(b)], /^(\d+)$/m, {}, root);
      return { label: '2 replicas on PostgreSQL + round-robin', pids: [a.pid, b.pid, rr.pid], target: target('gk_2replicas_pg', `http://127.0.0.1:${rr.match[1]}`, agent) };
    };
    const pgSchema = `bench_gateway_${process.pid}`;
    const pgReady = await pgQuery(`CREATE SCHEMA IF NOT EXISTS ${pgSchema}`).then(
      () => true,
      (err: Error) => (console.log(`PostgreSQL at ${PG_URL} not reachable (${err.message}): no PostgreSQL replicas row`), false),
    );
    if (pgReady) dropSchema = () => pgQuery(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
    const bareStarted = await start('bare proxy', ['--import', 'tsx', join(here, 'bare-proxy.ts'), upstream], /^(\d+)$/m, {}, root);
    pin(bareStarted.pid, CPUS.gateway);
    const peerPort = await freePort();
    const peerStarted = await start('portkey', [join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${peerPort}`, '--headless'], /Ready for connections|running at/, {
      NODE_ENV: 'production',
    });
    pin(peerStarted.pid, CPUS.gateway);
    const rows: Row[] = [
      { label: 'direct', target: target('direct', upstream, { authorization: `Bearer ${UPSTREAM_KEY}` }) },
      { label: 'bare node:http + undici proxy', pids: [bareStarted.pid], target: target('bare', `http://127.0.0.1:${bareStarted.match[1]}`, { authorization: `Bearer ${UPSTREAM_KEY}` }) },
      await gatekeeper('gk_fsync', 'fsync', 'gatekeeper fsync', CPUS.gateway, 1),
      await gatekeeper('gk_buffered', 'buffered', 'gatekeeper buffered', CPUS.gateway, 1),
      ...(SESSION ? [await gatekeeper('gk_session', 'buffered', 'gatekeeper buffered, session state on', CPUS.gateway, 1, true)] : []),
      await gatekeeper('gk_workers', 'buffered', `gatekeeper buffered, ${CORES} workers`, CPUS.all, CORES),
      await replicas(),
      ...(pgReady ? [await pgReplicas(pgSchema)] : []),
      {
        label: 'Portkey (@portkey-ai/gateway)',
        pids: [peerStarted.pid],
        target: target('portkey', `http://127.0.0.1:${peerPort}`, {
          authorization: `Bearer ${UPSTREAM_KEY}`,
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `${upstream}/v1`,
        }),
      },
    ];
    for (const row of rows) await check(row.target);
    // Warm-up (JIT, connection pools, SQLite page cache) before anything is timed.
    for (const row of rows) await wrk(row.target, { connections: 16, seconds: QUICK ? 1 : 3, cpus: CPUS.load, scratch: work });

    const figures: Record<string, RowFigures> = {};
    for (const row of rows) {
      figures[row.target.name] = await measure(row, work);
      const f = figures[row.target.name]!;
      console.log(`${row.label}: c=1 p50 ${r3(f.c1.p50)} ms, c=32 ${r0(f.c32.rps)} req/s, c=64 ${r0(f.c64.rps)} req/s (load average ${loadavg()[0]!.toFixed(2)})`);
    }

    const marker = '"content":"First"';
    const gkUrl = rows.find((r) => r.target.name === 'gk_buffered')!.target.origin;
    const ttftDirect = await timeToFirstText(target('direct', upstream, { authorization: `Bearer ${UPSTREAM_KEY}` }, true), QUICK ? 10 : 100, marker);
    const ttftGk = await timeToFirstText(target('gatekeeper', gkUrl, { authorization: `Bearer ${AGENT_KEY}` }, true), QUICK ? 10 : 100, marker);

    const f = (name: string) => figures[name]!;
    const ratios = {
      cpu_per_request_buffered_vs_bare: r3(f('gk_buffered').cpu_us_per_request! / f('bare').cpu_us_per_request!),
      max_rps_c64_buffered_vs_bare: r3(f('gk_buffered').c64.rps / f('bare').c64.rps),
      max_rps_c64_workers_vs_bare: r3(f('gk_workers').c64.rps / f('bare').c64.rps),
      max_rps_c64_workers_vs_single_worker: r3(f('gk_workers').c64.rps / f('gk_buffered').c64.rps),
      max_rps_c64_2replicas_vs_single: r3(f('gk_2replicas').c64.rps / f('gk_buffered').c64.rps),
      ...(figures.gk_2replicas_pg ? { max_rps_c64_2replicas_pg_vs_single: r3(f('gk_2replicas_pg').c64.rps / f('gk_buffered').c64.rps) } : {}),
      cpu_per_request_workers_vs_bare: r3(f('gk_workers').cpu_us_per_request! / f('bare').cpu_us_per_request!),
      c1_added_p50_ms_buffered: r3(f('gk_buffered').c1.p50 - f('direct').c1.p50),
      c1_added_p99_ms_buffered: r3(f('gk_buffered').c1.p99 - f('direct').c1.p99),
      c1_added_p50_ms_fsync_minus_fdatasync: r3(f('gk_fsync').c1.p50 - f('direct').c1.p50 - fdatasync),
      c64_rps_buffered_vs_portkey: r3(f('gk_buffered').c64.rps / f('portkey').c64.rps),
      cpu_per_request_portkey_vs_buffered: r3(f('portkey').cpu_us_per_request! / f('gk_buffered').cpu_us_per_request!),
      ...(SESSION ? { session_history_actions: 20, session_cpu_ratio_vs_off: r3(f('gk_session').cpu_us_per_request! / f('gk_buffered').cpu_us_per_request!) } : {}),
    };
    console.log('');
    console.log(`bench:gateway — ${uptime}; ${SECONDS} s per measure; ${CORES} cores; fdatasync p50 ${r3(fdatasync)} ms`);
    console.log(table(rows, figures));
    console.log(`first text byte of a stream: direct p50 ${r3(ttftDirect.p50)} ms, through the gatekeeper (buffered) p50 ${r3(ttftGk.p50)} ms`);
    console.log('ratios (targets: CPU ≤ 2× bare; c=64 all workers ≥ 0.5× bare; workers ≥ 1.6× single worker; c=1 added p50 ≤ 0.3 ms, p99 ≤ 1 ms; fsync p50 ≤ fdatasync + 0.3 ms; ahead of Portkey):');
    for (const [k, v] of Object.entries(ratios)) console.log(`  ${k}: ${v}`);
    const json = {
      cores: CORES,
      seconds: SECONDS,
      open_loop_rate: RATE,
      pinned: Boolean(CPUS.gateway && hasTaskset),
      fdatasync_p50_ms: r3(fdatasync),
      gatekeeper_build: built ? 'dist' : 'tsx',
      rows: Object.fromEntries(
        Object.entries(figures).map(([name, x]) => [
          name,
          {
            c1_p50_ms: r3(x.c1.p50),
            c1_p99_ms: r3(x.c1.p99),
            open_p50_ms: r3(x.open.p50),
            open_p99_ms: r3(x.open.p99),
            c32_rps: r0(x.c32.rps),
            c64_rps: r0(x.c64.rps),
            c64_p99_ms: r3(x.c64.p99),
            ...(x.cpu_us_per_request !== undefined ? { cpu_us_per_request: r0(x.cpu_us_per_request), cpu_us_per_request_c64: r0(x.cpu_us_per_request_c64!) } : {}),
            errors: x.c1.errors + x.open.errors + x.c32.errors + x.c64.errors,
          },
        ]),
      ),
      ...ratios,
      ttft_direct_p50_ms: r3(ttftDirect.p50),
      ttft_gatekeeper_p50_ms: r3(ttftGk.p50),
      load_average_at_start: loadAtStart,
      load_average_at_end: loadavg().map((l) => Number(l.toFixed(2))),
    };
    console.log(JSON.stringify(json));
  } finally {
    stopAll();
    await new Promise((r) => setTimeout(r, 500)); // the replicas' connections end before their schema is dropped
    await dropSchema?.().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  stopAll();
  process.exit(1);
});
