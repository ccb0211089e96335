/**
 * node --import tsx --conditions=development bench/gateway/session-gate.ts [--base <checkout>] — what session
 * state adds to the gate itself, in one process: the gateway's request (an llm.request and the llm.tool_call its
 * response carries, both decided by the standard library with bench:gateway's configuration, session rules on for
 * the session row) through createGate with the SQLite session history keeping 20 actions, the redactor, and a
 * ledger double that writes nothing but encodes each record and payload as canonical JSON and resolves its appends
 * in groups (one per event-loop turn, as the ledger's group commit does). No HTTP, upstream or disk ledger, so the
 * figure is the session path's own cost with far less of the machine's noise than bench:gateway:cpu.
 *
 * Rows: session off / on for this checkout and, with --base, for another checkout's sources (a worktree of main),
 * loaded side by side in this process; rows alternate in short rounds (BENCH_ROUNDS, 40, of BENCH_REQUESTS, 300,
 * at BENCH_CONNECTIONS, 8, concurrent requests). Prints CPU µs per request per row (median of rounds), the session
 * on − off difference and on/off ratio per checkout (median of the rounds' own), and one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cpuUsage } from 'node:process';
import { fileURLToPath } from 'node:url';
import { QUICK, sized } from '../quick.js';
import { writeGatekeeperConfig } from './gatekeeper-config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROUNDS = sized('BENCH_ROUNDS', 40, 2);
const REQUESTS = sized('BENCH_REQUESTS', 300, 50);
const CONNECTIONS = sized('BENCH_CONNECTIONS', 8, 8);
const baseAt = process.argv.indexOf('--base');
const BASE = baseAt > 0 ? resolve(process.argv[baseAt + 1]!) : undefined;
const work = mkdtempSync(join(tmpdir(), 'bench-session-gate-'));

type Gate = { decide(attempt: unknown): Promise<unknown> };

/** The gate of a checkout, with session state on or off (its own modules: two checkouts load side by side). */
async function gateMaker(checkout: string): Promise<(sessions: boolean) => Gate> {
  const src = (p: string) => import(join(checkout, 'packages/gatekeeper/src', p));
  const [{ createGate }, { staticSource }, { sessionHooks }, { SqliteSessionHistoryStore }, { Redactor }, { readBundle }, { compileBundle }] = await Promise.all(
    ['gate/index.ts', 'policy/engine.ts', 'sessions/hooks.ts', 'stores/sqlite/session-history.ts', 'redact.ts', 'policy/bundle.ts', 'policy/rego.ts'].map(src),
  );
  const { canonicalJson } = await import(join(checkout, 'packages/ledger/src/index.ts'));
  return (sessions) => {
    const dir = mkdtempSync(join(work, 'gk-'));
    writeGatekeeperConfig(dir, 1, 'buffered', sessions);
    const policy = compileBundle(readBundle([join(checkout, 'policies'), join(dir, 'policy')]), { maxSteps: 1_000_000, timeoutMs: 1000, explain: 'refusals' });
    let index = 0;
    let waiting: (() => void)[] = [];
    const log = {
      append(record: unknown, payloads: Record<string, unknown>) {
        canonicalJson(record);
        for (const p of Object.values(payloads)) canonicalJson(p);
        const at = index++;
        return new Promise((done) => {
          if (!waiting.length) setImmediate(() => waiting.splice(0).forEach((f) => f()));
          waiting.push(() => done({ index: at }));
        });
      },
    };
    const windows = [{ name: '1h', ms: 3_600_000 }, { name: '24h', ms: 86_400_000 }];
    const store = sessions ? new SqliteSessionHistoryStore(join(dir, 'sessions.db'), { maxEntries: 20, ttlMs: 86_400_000 }) : undefined;
    const plugins = store ? [{ name: 'sessions', hooks: sessionHooks(store, windows, (kind: string) => kind !== 'llm.request') }] : [];
    return createGate({ policy: staticSource(policy), log, redactor: new Redactor(), plugins });
  };
}

const agent = { id: 'bench-agent', owner: 'bench@example.com', team: 'bench', labels: {}, delegation: [] };
const messages = [{ role: 'system', content: 'You check stock levels.' }, { role: 'user', content: 'How much STEEL-9 is in the north warehouse?' }];
let calls = 0;

/** bench:gateway's request as the gate sees it: the model request, then the tool call in its response. */
async function request(gate: Gate): Promise<void> {
  const context = { session_id: 'bench-session' };
  const digest = `sha256:${'3a'.repeat(32)}`;
  await gate.decide({
    agent, surface: 'openai', trace: messages, context: { ...context, conversation: { messages: 2, digest } },
    action: { kind: 'llm.request', target: { model: 'gpt-bench', path: '/v1/chat/completions' }, arguments: { endpoint: 'chat/completions', tools: ['lookup_stock'], max_tokens: 256, messages: 2, messages_digest: digest } },
  });
  await gate.decide({ agent, surface: 'openai', context: { ...context, tool_call_id: `call_${calls++}` }, action: { kind: 'llm.tool_call', target: { tool: 'lookup_stock' }, arguments: { sku: 'STEEL-9' } } });
}

async function send(gate: Gate, count: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next++ < count) await request(gate);
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (n: number) => Math.round(n * 10) / 10;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

async function main(): Promise<void> {
  console.log(`bench session-gate on ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${ROUNDS} rounds × ${REQUESTS} requests at c=${CONNECTIONS}${QUICK ? ' (--quick: figures are not measurements)' : ''}`);
  const rows: { name: string; gate: Gate; samples: number[] }[] = [];
  const checkouts = [{ name: 'this', dir: root }, ...(BASE ? [{ name: 'base', dir: BASE }] : [])];
  for (const { name, dir } of checkouts) {
    const make = await gateMaker(dir);
    rows.push({ name: `${name}, session off`, gate: make(false), samples: [] }, { name: `${name}, session on`, gate: make(true), samples: [] });
  }
  for (const row of rows) await send(row.gate, QUICK ? 50 : 3000); // warm-up: JIT, 20 actions of history
  for (let round = 0; round < ROUNDS; round++) {
    for (const row of round % 2 === 0 ? rows : [...rows].reverse()) {
      const before = cpuUsage();
      await send(row.gate, REQUESTS);
      const spent = cpuUsage(before);
      row.samples.push((spent.user + spent.system) / REQUESTS);
    }
  }
  console.log('');
  console.log('| row | CPU µs/request (median) | min |');
  console.log('| --- | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r1(median(r.samples))} | ${r1(Math.min(...r.samples))} |`);
  const session: Record<string, { added_us: number; ratio: number }> = {};
  for (let i = 0; i < rows.length; i += 2) {
    const [off, on] = [rows[i]!, rows[i + 1]!];
    const name = checkouts[i / 2]!.name;
    session[name] = { added_us: r1(median(on.samples.map((x, k) => x - off.samples[k]!))), ratio: r3(median(on.samples.map((x, k) => x / off.samples[k]!))) };
    console.log(`${name}: session on − off ${session[name]!.added_us} µs per request, on/off ${session[name]!.ratio} (medians of the rounds' own)`);
  }
  console.log(JSON.stringify({ rounds: ROUNDS, requests: REQUESTS, connections: CONNECTIONS, rows: Object.fromEntries(rows.map((r) => [r.name, { cpu_us_per_request: r1(median(r.samples)), samples: r.samples.map(r1) }])), session, load_average_at_end: loadavg().map((l) => Number(l.toFixed(2))) }));
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
