/**
 * npm run bench:gateway:cpu — the gatekeeper's CPU time per request (buffered ledger, one process) against the bare
 * node:http + undici proxy, measured the way that stays meaningful on a busy machine: a fixed number of requests
 * from a keep-alive undici pool (BENCH_CONNECTIONS, 8) in this process, and the gateway process's CPU time (user +
 * system, every thread: the run time each thread's /proc schedstat gives, in ns, rather than clock ticks) over exactly
 * those requests. No wall-clock figure is used.
 *
 * `--base <checkout>`: also runs the gatekeeper built in another checkout (e.g. a `git worktree` of main with its
 * own `tsc -b`) and alternates the rows round by round, so a change is measured against its baseline under the same
 * load. Rows are interleaved (the order turns each round); each figure is the median of BENCH_ROUNDS (9) rounds
 * of BENCH_REQUESTS (2000) requests, each ratio the median of the rounds' own ratios (rows of a round ran under
 * the same load). With 2+ cores the gateways run on CPU 0 and the load on the others (taskset).
 * `--session`: each checkout also runs with session state on (`sessions:` keeping 20 actions, the standard library's
 * session rules configured, every request in one session: the OAGF-Session header goes to the off row too), and
 * the session on/off ratio of each checkout is the median of the rounds' own ratios (issue 18's target: ≤ 1.10).
 * BENCH_TOGETHER=1 runs the rows of a round at the same time instead of one after another: all on the gateway's
 * core, so each round's rows share exactly the machine's load (steadier ratios on a busy machine; the absolute
 * figures include the rows contending with each other).
 * BENCH_PROFILE=1 runs the gatekeepers with --cpu-prof into $TMPDIR/bench-gateway-profiles.
 * Prints one table, then one JSON line; `--quick` runs tiny rounds (CI smoke: figures meaningless).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { QUICK, sized } from '../quick.js';
import { AGENT_KEY, chatBody, UPSTREAM_KEY, writeGatekeeperConfig } from './gatekeeper-config.js';
import { cpuSets, pin, start, stop, stopAll, type Started } from './procs.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const REQUESTS = sized('BENCH_REQUESTS', 2000, 200);
const ROUNDS = sized('BENCH_ROUNDS', 9, 1);
const CONNECTIONS = sized('BENCH_CONNECTIONS', 8, 8);
const CPUS = cpuSets();
const baseAt = process.argv.indexOf('--base');
const BASE = baseAt > 0 ? resolve(process.argv[baseAt + 1]!) : undefined;
const SESSION = process.argv.includes('--session');
const TOGETHER = process.env.BENCH_TOGETHER === '1';

interface Row {
  name: string;
  started: Started;
  pool: Pool;
  headers: Record<string, string>;
  samples: number[];
}

const body = chatBody(false);

/** `count` requests over `pool`, CONNECTIONS at a time; each response must carry the allowed tool call. */
async function send(row: Row, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next++ < count) {
      const res = await row.pool.request({ method: 'POST', path: '/v1/chat/completions', headers: row.headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.includes('lookup_stock')) throw new Error(`${row.name}: ${res.statusCode} ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

function build(dir: string): void {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/rego', 'packages/ledger', 'packages/gatekeeper'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc -b failed in ${dir}:\n${(r.stdout + r.stderr).slice(0, 2000)}`);
}

/** CPU time (ns) every thread of `pid` has run so far (the one-process gatekeeper and bare proxy have no children). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (n: number) => Math.round(n * 10) / 10;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

async function main(): Promise<void> {
  pin(process.pid, CPUS.load);
  const uptime = spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
  console.log(`bench:gateway:cpu on ${process.version}; ${uptime}`);
  console.log(`${ROUNDS} rounds × ${REQUESTS} requests at c=${CONNECTIONS}${QUICK ? ' (--quick: figures are not measurements)' : ''}`);
  const work = mkdtempSync(join(tmpdir(), 'bench-gateway-cpu-'));
  const rows: Row[] = [];
  try {
    const upstream = await start('upstream', ['--import', 'tsx', join(here, 'upstream.ts')], /^(\d+)$/m, {}, root);
    pin(upstream.pid, CPUS.load);
    const upstreamPort = Number(upstream.match[1]);
    const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'bench-gateway-profiles')}`] : [];
    const add = (name: string, started: Started, headers: Record<string, string>) => {
      pin(started.pid, CPUS.gateway);
      const origin = started.match[1]!.startsWith('http') ? started.match[1]! : `http://127.0.0.1:${started.match[1]}`;
      rows.push({ name, started, headers: { 'content-type': 'application/json', ...headers }, pool: new Pool(origin, { connections: CONNECTIONS, keepAliveTimeout: 60_000 }), samples: [] });
    };
    add('bare', await start('bare proxy', ['--import', 'tsx', join(here, 'bare-proxy.ts'), `http://127.0.0.1:${upstreamPort}`], /^(\d+)$/m, {}, root), {
      authorization: `Bearer ${UPSTREAM_KEY}`,
    });
    const checkouts = [{ name: 'gatekeeper', dir: root }, ...(BASE ? [{ name: 'gatekeeper (base)', dir: BASE }] : [])];
    // With --session, every request is in one session: with session state on, each decision sees the 20 kept before it.
    const headers = { authorization: `Bearer ${AGENT_KEY}`, ...(SESSION ? { 'oagf-session': 'bench-session' } : {}) };
    const sessionPairs: [Row, Row][] = [];
    for (const { name, dir } of checkouts) {
      build(dir);
      const serve = async (rowName: string, sessions: boolean): Promise<Row> => {
        const state = join(work, String(rows.length));
        const config = writeGatekeeperConfig(state, upstreamPort, 'buffered', sessions);
        const gk = await start(rowName, [...profile, join(dir, 'packages/gatekeeper/dist/cli.js'), 'serve', '--config', config, '--generate-key', '--workers', '1'], /gatekeeper listening on (http:\/\/[^\s]+)/, { BENCH_UPSTREAM_KEY: UPSTREAM_KEY }, state);
        add(rowName, gk, headers);
        return rows.at(-1)!;
      };
      const off = await serve(name, false);
      if (SESSION) sessionPairs.push([await serve(`${name}, session on`, true), off]);
    }
    for (const row of rows) await send(row, QUICK ? 50 : 2000); // warm-up: JIT, pools, SQLite page cache
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? rows : [...rows].reverse();
      const measure = async (row: Row) => {
        const before = cpuNs(row.started.pid);
        await send(row, REQUESTS);
        row.samples.push((cpuNs(row.started.pid) - before) / 1000 / REQUESTS);
      };
      if (TOGETHER) await Promise.all(order.map(measure));
      else for (const row of order) await measure(row);
      console.log(`round ${round + 1}: ${rows.map((r) => `${r.name} ${r1(r.samples.at(-1)!)} µs`).join(', ')} (load ${loadavg()[0]!.toFixed(2)})`);
    }
    // Ratios are the median of the per-round ratios: rows of one round ran back to back, under the same load.
    const paired = (a: Row, b: Row) => median(a.samples.map((x, i) => x / b.samples[i]!));
    const bare = rows[0]!;
    console.log('');
    console.log('| row | CPU µs/request (median) | min | max | × bare (median of rounds) |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.name} | ${r1(median(r.samples))} | ${r1(Math.min(...r.samples))} | ${r1(Math.max(...r.samples))} | ${r3(paired(r, bare))} |`);
    const figures = Object.fromEntries(rows.map((r) => [r.name, { cpu_us_per_request: r1(median(r.samples)), samples: r.samples.map(r1), vs_bare: r3(paired(r, bare)) }]));
    const gatekeepers = rows.filter((r) => !r.name.endsWith('session on')).slice(1);
    const vsBase = BASE ? { gatekeeper_vs_base: r3(paired(gatekeepers[0]!, gatekeepers[1]!)) } : {};
    if (BASE) console.log(`gatekeeper vs base: ${vsBase.gatekeeper_vs_base}`);
    const session = Object.fromEntries(sessionPairs.map(([on, off]) => [off.name, { on_us: r1(median(on.samples)), off_us: r1(median(off.samples)), ratio: r3(paired(on, off)) }]));
    for (const [name, s] of Object.entries(session)) console.log(`${name}: session on/off ${s.on_us}/${s.off_us} µs per request, ratio ${s.ratio} (median of rounds; target ≤ 1.10)`);
    console.log(JSON.stringify({ requests: REQUESTS, rounds: ROUNDS, connections: CONNECTIONS, rows: figures, ...vsBase, ...(SESSION ? { session_history_actions: 20, session } : {}), load_average_at_end: loadavg().map((l) => Number(l.toFixed(2))) }));
  } finally {
    await Promise.all(rows.map((r) => r.pool.close()));
    // SIGTERM and wait, so a --cpu-prof profile is written
    for (const r of rows) await stop(r.started);
    stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  stopAll();
  process.exit(1);
});
