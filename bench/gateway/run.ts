/**
 * npm run bench:gateway — the gatekeeper's added latency and throughput on the OpenAI-compatible surface.
 *
 * In one run, on 127.0.0.1: a local upstream (own process) is reached directly, through the gatekeeper
 * (`gatekeeper serve`, own process: the OAGF standard policy library, the SQLite ledger, a non-streamed chat
 * completion whose response carries one tool call, so every request takes two decisions and two ledger
 * appends) once per ledger durability — `fsync` (the default: every group commit waits for the disk) and
 * `buffered` (fields prefixed `fast_`: survives a process crash, not power loss) — through @portkey-ai/gateway as a
 * pass-through peer (own process), and through a bare node:http + undici pass-through (bare-proxy.ts, fields
 * prefixed `bare_`): the floor any Node.js gateway pays for the hop on this machine. For each: latency
 * p50/p99 under an open-loop 1,000 req/s, and the maximum req/s with back-to-back workers. Also the time
 * to the first text byte of an allowed stream, direct and through the gatekeeper.
 *
 * The gatekeeper runs from its compiled build (tsc -b first), as deployed; if the build fails it runs the
 * sources through tsx and says so. CPU time per request (from /proc) is reported for the gatekeeper and the
 * peer: unlike latency it stays meaningful on a busy machine.
 *
 * With --session, a third gatekeeper (buffered, fields prefixed `session_`) runs with session state on: `sessions:`
 * keeping 20 actions per session, every request in one session (OAGF-Session), the standard library's session
 * rules configured (the tool's results labelled, egress, destructive tools); its CPU per request is compared with
 * the buffered gatekeeper's, which gets the same requests with session state off.
 *
 * Env: BENCH_RATE (1000), BENCH_LOW_RATE (100, a second open-loop pass below saturation), BENCH_SECONDS (5), BENCH_WORKERS (64), BENCH_PROFILE=1 (gatekeeper --cpu-prof
 * into $TMPDIR/bench-gateway-profiles). The last line of output is one JSON object with the figures.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashApiKey } from '../../packages/gatekeeper/src/auth/agents.js';
import { maxRate, openLoop, timeToFirstText, type Percentiles, type Target } from './load.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const RATE = Number(process.env.BENCH_RATE ?? 1000);
/** A rate neither side saturates at, even on a shared machine: the added latency of the decisions themselves. */
const LOW_RATE = Number(process.env.BENCH_LOW_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 64);
const AGENT_KEY = 'bench-agent-key';
const UPSTREAM_KEY = 'bench-upstream-key';

const children: ChildProcess[] = [];
function stopAll(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

/** Spawns a process and resolves with the first stdout/stderr line matching `ready`, and its pid. */
function start(name: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<RegExpMatchArray & { pid: number }> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolveReady, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s; output:\n${seen}`)), 60_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = seen.match(ready);
      if (m) {
        clearTimeout(timer);
        resolveReady(Object.assign(m, { pid: child.pid! }));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready; output:\n${seen}`)));
  });
}

const SESSION = process.argv.includes('--session');
/** The standard library's session rules, for the gatekeeper with session state on. */
const SESSION_RULES = ['      labels: [{ tool: lookup_stock, labels: [untrusted] }]', '      egress: { tools: [http_post] }', '      destructive_tools: ["delete_*"]'];

function writeGatekeeperConfig(dir: string, upstreamPort: number, durability: 'fsync' | 'buffered', sessions = false): string {
  mkdirSync(join(dir, 'policy'), { recursive: true });
  writeFileSync(
    join(dir, 'policy', 'data.yaml'),
    ['config:', '  defaults:', '    models: [gpt-bench]', '    max_tokens: 8192', '  teams:', '    bench:', '      tools: [lookup_stock]', ...(sessions ? SESSION_RULES : []), ''].join('\n'),
  );
  const file = join(dir, 'gatekeeper.yaml');
  writeFileSync(
    file,
    [
      'listen: 127.0.0.1:0',
      'agents:',
      `  - { id: bench-agent, owner: bench@example.com, team: bench, api_keys: ["${hashApiKey(AGENT_KEY)}"] }`,
      'llm:',
      '  upstreams:',
      `    - { name: local, base_url: "http://127.0.0.1:${upstreamPort}/v1", api_key: { env: BENCH_UPSTREAM_KEY } }`,
      '  default: local',
      'policy:',
      `  bundle: ["${join(root, 'policies')}", ./policy]`,
      '  watch: false',
      'ledger:',
      '  path: ./ledger.db',
      '  signing_key_file: ./ledger.skey',
      '  origin: bench.local/ledger',
      `  durability: ${durability}`,
      'logging: { level: warn }',
      ...(sessions ? ['sessions: { store: { sqlite: ./sessions.db }, max_actions: 20 }'] : []),
      '',
    ].join('\n'),
  );
  return file;
}

const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: 'gpt-bench',
    messages: [
      { role: 'system', content: 'You check stock levels.' },
      { role: 'user', content: 'How much STEEL-9 is in the north warehouse?' },
    ],
    tools: [{ type: 'function', function: { name: 'lookup_stock', parameters: { type: 'object', properties: { sku: { type: 'string' } } } } }],
    max_tokens: 256,
    ...(stream ? { stream: true } : {}),
  });

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

/** CPU time (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const ms = (n: number) => Math.round(n * 1000) / 1000;
const fmt = (p: Percentiles) => `p50 ${ms(p.p50)} ms, p99 ${ms(p.p99)} ms (${p.count} ok, ${p.errors} errors)`;

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`bench:gateway on ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${RATE} req/s × ${SECONDS} s open loop, ${WORKERS} workers for max req/s`);
  const work = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  try {
    const upstreamPort = Number((await start('upstream', ['--import', 'tsx', join(here, 'upstream.ts')], /^(\d+)$/m))[1]);
    const profileDir = join(tmpdir(), 'bench-gateway-profiles');
    const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    if (profile.length) console.log(`gatekeeper CPU profile: ${profileDir}`);
    const built = build();
    const cli = built ? [join(root, 'packages/gatekeeper/dist/cli.js')] : ['--import', 'tsx', '--conditions=development', join(root, 'packages/gatekeeper/src/cli.ts')];
    console.log(built ? 'gatekeeper: compiled build (dist/), as deployed' : 'gatekeeper: the build failed; running the TypeScript sources through tsx (slower)');
    const startGatekeeper = (durability: 'fsync' | 'buffered', sessions = false) =>
      start(
        `gatekeeper (${durability}${sessions ? ', sessions' : ''})`,
        [...profile, ...cli, 'serve', '--config', writeGatekeeperConfig(join(work, `${durability}${sessions ? '-sessions' : ''}`), upstreamPort, durability, sessions), '--generate-key'],
        /gatekeeper listening on (http:\/\/[^\s]+)/,
        { BENCH_UPSTREAM_KEY: UPSTREAM_KEY },
      );
    const gkStarted = await startGatekeeper('fsync');
    const fastStarted = await startGatekeeper('buffered');
    const sessionStarted = SESSION ? await startGatekeeper('buffered', true) : undefined;
    const gkUrl = gkStarted[1]!;
    const peerPort = await freePort();
    const peerStarted = await start('portkey', [join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${peerPort}`, '--headless'], /Ready for connections|running at/, {
      NODE_ENV: 'production',
    });

    const upstream = `http://127.0.0.1:${upstreamPort}`;
    const bareStarted = await start('bare proxy', ['--import', 'tsx', join(here, 'bare-proxy.ts'), upstream], /^(\d+)$/m);
    const direct = target('direct', upstream, { authorization: `Bearer ${UPSTREAM_KEY}` });
    const gatekeeper = target('gatekeeper', gkUrl, { authorization: `Bearer ${AGENT_KEY}` });
    // One session for every request: with session state on, each decision sees the 20 actions kept before it.
    const sessionHeader = SESSION ? { 'oagf-session': 'bench-session' } : {};
    const fast = target('gk-buffered', fastStarted[1]!, { authorization: `Bearer ${AGENT_KEY}`, ...sessionHeader });
    const withSession = sessionStarted ? target('gk-session', sessionStarted[1]!, { authorization: `Bearer ${AGENT_KEY}`, ...sessionHeader }) : undefined;
    const peer = target('portkey', `http://127.0.0.1:${peerPort}`, {
      authorization: `Bearer ${UPSTREAM_KEY}`,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstream}/v1`,
    });
    const bare = target('bare-proxy', `http://127.0.0.1:${bareStarted[1]}`, { authorization: `Bearer ${UPSTREAM_KEY}` });
    const targets = [direct, bare, gatekeeper, fast, ...(withSession ? [withSession] : []), peer];
    for (const t of targets) await check(t);
    // Warm-up (JIT, connection pools, SQLite page cache) before anything is timed.
    for (const t of targets) await maxRate(t, 16, 3);

    // Below saturation first, so no backlog from the saturating pass colours it.
    const low: Record<string, Percentiles> = {};
    for (const t of targets) {
      low[t.name] = await openLoop(t, LOW_RATE, SECONDS);
      console.log(`${t.name.padEnd(10)} at ${LOW_RATE} req/s: ${fmt(low[t.name]!)} (load average ${loadavg()[0]!.toFixed(2)})`);
    }
    const latency: Record<string, Percentiles> = {};
    const cpuPerRequest: Record<string, number> = {};
    const pids: Record<string, number> = { gatekeeper: gkStarted.pid, [fast.name]: fastStarted.pid, portkey: peerStarted.pid, [bare.name]: bareStarted.pid, ...(sessionStarted ? { 'gk-session': sessionStarted.pid } : {}) };
    for (const t of targets) {
      const pid = pids[t.name];
      const cpuBefore = pid ? cpuMs(pid) : 0;
      latency[t.name] = await openLoop(t, RATE, SECONDS);
      if (pid) cpuPerRequest[t.name] = (cpuMs(pid) - cpuBefore) / (RATE * SECONDS);
      const cpu = pid ? `; ${ms(cpuPerRequest[t.name]!)} ms CPU per request` : '';
      console.log(`${t.name.padEnd(10)} at ${RATE} req/s: ${fmt(latency[t.name]!)}${cpu} (load average ${loadavg()[0]!.toFixed(2)})`);
    }
    const rps: Record<string, number> = {};
    for (const t of targets) {
      const r = await maxRate(t, WORKERS, Math.max(3, SECONDS / 2));
      rps[t.name] = r.rps;
      console.log(`${t.name.padEnd(10)} max: ${Math.round(r.rps)} req/s (${r.errors} errors)`);
    }
    const marker = '"content":"First"';
    const ttftDirect = await timeToFirstText(target('direct', upstream, { authorization: `Bearer ${UPSTREAM_KEY}` }, true), 100, marker);
    const ttftGk = await timeToFirstText(target('gatekeeper', gkUrl, { authorization: `Bearer ${AGENT_KEY}` }, true), 100, marker);
    console.log(`first text byte of a stream: direct ${fmt(ttftDirect)}; through the gatekeeper ${fmt(ttftGk)} (the upstream sends the rest 20 ms later)`);

    const result = {
      rate: RATE,
      seconds: SECONDS,
      direct_p50_ms: ms(latency.direct!.p50),
      direct_p99_ms: ms(latency.direct!.p99),
      gatekeeper_p50_ms: ms(latency.gatekeeper!.p50),
      gatekeeper_p99_ms: ms(latency.gatekeeper!.p99),
      added_p50_ms: ms(latency.gatekeeper!.p50 - latency.direct!.p50),
      added_p99_ms: ms(latency.gatekeeper!.p99 - latency.direct!.p99),
      errors: latency.gatekeeper!.errors,
      low_rate: LOW_RATE,
      added_p50_ms_at_low_rate: ms(low.gatekeeper!.p50 - low.direct!.p50),
      added_p99_ms_at_low_rate: ms(low.gatekeeper!.p99 - low.direct!.p99),
      peer_added_p50_ms_at_low_rate: ms(low.portkey!.p50 - low.direct!.p50),
      peer_added_p99_ms_at_low_rate: ms(low.portkey!.p99 - low.direct!.p99),
      max_rps: Math.round(rps.gatekeeper!),
      direct_max_rps: Math.round(rps.direct!),
      max_rps_share_of_direct: ms(rps.gatekeeper! / rps.direct!),
      cpu_ms_per_request: ms(cpuPerRequest.gatekeeper!),
      fast_durability: 'buffered',
      fast_added_p50_ms: ms(latency[fast.name]!.p50 - latency.direct!.p50),
      fast_added_p99_ms: ms(latency[fast.name]!.p99 - latency.direct!.p99),
      fast_errors: latency[fast.name]!.errors,
      fast_added_p50_ms_at_low_rate: ms(low[fast.name]!.p50 - low.direct!.p50),
      fast_added_p99_ms_at_low_rate: ms(low[fast.name]!.p99 - low.direct!.p99),
      fast_max_rps: Math.round(rps[fast.name]!),
      fast_max_rps_share_of_direct: ms(rps[fast.name]! / rps.direct!),
      fast_cpu_ms_per_request: ms(cpuPerRequest[fast.name]!),
      bare_added_p50_ms: ms(latency[bare.name]!.p50 - latency.direct!.p50),
      bare_added_p99_ms: ms(latency[bare.name]!.p99 - latency.direct!.p99),
      bare_added_p50_ms_at_low_rate: ms(low[bare.name]!.p50 - low.direct!.p50),
      bare_added_p99_ms_at_low_rate: ms(low[bare.name]!.p99 - low.direct!.p99),
      bare_max_rps: Math.round(rps[bare.name]!),
      bare_cpu_ms_per_request: ms(cpuPerRequest[bare.name]!),
      peer: '@portkey-ai/gateway',
      peer_added_p50_ms: ms(latency.portkey!.p50 - latency.direct!.p50),
      peer_added_p99_ms: ms(latency.portkey!.p99 - latency.direct!.p99),
      peer_max_rps: Math.round(rps.portkey!),
      peer_cpu_ms_per_request: ms(cpuPerRequest.portkey!),
      ttft_direct_p50_ms: ms(ttftDirect.p50),
      ttft_gatekeeper_p50_ms: ms(ttftGk.p50),
      ttft_added_p50_ms: ms(ttftGk.p50 - ttftDirect.p50),
      ...(withSession ? sessionFigures(withSession.name, fast.name, low, latency, rps, cpuPerRequest, direct.name) : {}),
      gatekeeper_build: built ? 'dist' : 'tsx',
      load_average_1m: Number(loadavg()[0]!.toFixed(2)),
      load_average_at_start: loadAtStart,
    };
    console.log(JSON.stringify(result));
  } finally {
    stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Session state on (`name`) against the same gatekeeper with it off (`off`): the cost of the history. */
function sessionFigures(name: string, off: string, low: Record<string, Percentiles>, latency: Record<string, Percentiles>, rps: Record<string, number>, cpu: Record<string, number>, direct: string) {
  const figures = {
    session_history_actions: 20,
    session_added_p50_ms_at_low_rate: ms(low[name]!.p50 - low[direct]!.p50),
    session_added_p50_ms: ms(latency[name]!.p50 - latency[direct]!.p50),
    session_errors: latency[name]!.errors,
    session_max_rps: Math.round(rps[name]!),
    session_cpu_ms_per_request: ms(cpu[name]!),
    session_cpu_ratio_vs_off: ms(cpu[name]! / cpu[off]!),
  };
  console.log(`session state on vs off (buffered, 20 actions of history): ${figures.session_cpu_ms_per_request} vs ${ms(cpu[off]!)} ms CPU per request = ${figures.session_cpu_ratio_vs_off}; max ${figures.session_max_rps} vs ${Math.round(rps[off]!)} req/s`);
  return figures;
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
