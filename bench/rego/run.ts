/**
 * Rego engine benchmark (npm run bench:rego).
 * (a) RBAC from OPA's "Policy Performance" docs with 1,000 users and 100 roles, prepared query repeated,
 *     against a hand-written TypeScript function computing the same decision;
 * (b) the OAGF standard policy (policies/oagf) deciding a $2.4M order, and the gateway's two decisions per chat
 *     completion (llm.request, then the llm.tool_call the model returned);
 * (c) compile time of a policy with 1,000 rules.
 * With --session, (b) also decides the gateway's two actions with session state on: `input.session` holding 20
 * earlier actions (two of them labelled, several with amounts) and the session rules configured (labels, egress,
 * destructive tools, an order window), next to the same actions with session state off, in the same run.
 * The last line is one JSON object with the headline figures.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Measure the shipped build (dist, as `tsc -b` emits it), not the tsx-transpiled sources:
// tsx wraps every closure in a naming helper, which distorts a continuation-passing evaluator.
const root = new URL('../../', import.meta.url).pathname;
execFileSync('npx', ['tsc', '-b', 'packages/rego'], { cwd: root, stdio: 'inherit' });
const { compile } = (await import(new URL('../../packages/rego/dist/index.js', import.meta.url).href)) as typeof import('@oagf/rego');

const RBAC = `package rbac

default allow := false

# a user is allowed when one of their roles grants the requested action on the object
allow if {
	some role in data.user_roles[input.user]
	some permission in data.role_permissions[role]
	permission == {"action": input.action, "object": input.object}
}
`;

const ACTIONS = ['read', 'write', 'delete'];

function rbacData(users: number, roles: number) {
  const role_permissions: Record<string, { action: string; object: string }[]> = {};
  for (let r = 0; r < roles; r++) {
    role_permissions[`role${r}`] = [
      { action: ACTIONS[r % 3], object: `server${r}` },
      { action: 'read', object: `database${r % 10}` },
    ];
  }
  const user_roles: Record<string, string[]> = {};
  for (let u = 0; u < users; u++) user_roles[`user${u}`] = [`role${u % roles}`, `role${(u * 7 + 3) % roles}`];
  return { user_roles, role_permissions };
}

type Input = { user: string; action: string; object: string };

function handwritten(data: ReturnType<typeof rbacData>, input: Input): boolean {
  for (const role of data.user_roles[input.user] ?? []) {
    for (const p of data.role_permissions[role] ?? []) {
      if (p.action === input.action && p.object === input.object) return true;
    }
  }
  return false;
}

function inputs(n: number): Input[] {
  const out: Input[] = [];
  let seed = 42;
  const rnd = (m: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % m; };
  for (let i = 0; i < n; i++) out.push({ user: `user${rnd(1000)}`, action: ACTIONS[rnd(3)], object: rnd(2) ? `server${rnd(100)}` : `database${rnd(10)}` });
  return out;
}

interface Stats { p50_us: number; p99_us: number; evals_per_s: number; cpu_us: number }

function measure(n: number, f: (i: number) => unknown): Stats {
  const times = new Float64Array(n);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    f(i);
    times[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  times.sort();
  return {
    p50_us: round(times[Math.floor(n * 0.5)]), p99_us: round(times[Math.floor(n * 0.99)]), evals_per_s: Math.round(n / total),
    // CPU time per evaluation (all threads, incl. GC): a check on wall-clock figures taken on a busy machine
    cpu_us: round((cpu.user + cpu.system) / n),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

function line(name: string, s: Stats): void {
  console.log(`${name.padEnd(34)} p50 ${String(s.p50_us).padStart(8)} µs   p99 ${String(s.p99_us).padStart(8)} µs   ${String(s.evals_per_s).padStart(9)} evals/s   cpu ${s.cpu_us} µs/eval`);
}

// (a) RBAC
const data = rbacData(1000, 100);
const policy = compile({ modules: { 'rbac.rego': RBAC }, data });
const query = policy.prepare('data.rbac.allow');
const ins = inputs(10_000);
let agree = 0;
for (const i of ins) if (query.eval({ input: i }).results[0].expressions[0].value === handwritten(data, i)) agree++;
if (agree !== ins.length) throw new Error(`engine and hand-written RBAC disagree on ${ins.length - agree} inputs`);
const N = 200_000;
for (let i = 0; i < 20_000; i++) query.eval({ input: ins[i % ins.length] });
const engine = measure(N, (i) => query.eval({ input: ins[i % ins.length] }));
for (let i = 0; i < 20_000; i++) handwritten(data, ins[i % ins.length]);
const hand = measure(N, (i) => handwritten(data, ins[i % ins.length]));
console.log(`RBAC, 1,000 users / 100 roles, ${N} evaluations (allowed in ${ins.filter((i) => handwritten(data, i)).length} of ${ins.length} inputs)`);
line('  engine (prepared query)', engine);
line('  hand-written TypeScript', hand);
const ratio = round(engine.p50_us / Math.max(hand.p50_us, 0.01));
console.log(`  ratio engine/hand-written (p50): ${ratio}`);

// (b) OAGF standard policy: a $2.4M order (escalates), and the two decisions the gateway makes per proxied
// chat completion (bench/gateway's data.yaml and input shapes: packages/gatekeeper/src/gate.ts, openai/)
const oagfDir = new URL('../../policies/oagf/', import.meta.url).pathname;
const oagfModules: Record<string, string> = {};
for (const f of readdirSync(oagfDir)) if (f.endsWith('.rego') && !f.endsWith('_test.rego')) oagfModules[f] = readFileSync(join(oagfDir, f), 'utf8');
const benchTime = { now: '2026-11-27T14:05:00.000Z', unix_ms: Date.parse('2026-11-27T14:05:00.000Z'), weekday: 'Friday', hour: 14, minute: 5 };

interface OagfCase { name: string; key: string; data: unknown; input: unknown; expect: string }
const oagfCases: OagfCase[] = [
  {
    name: 'OAGF standard policy, $2.4M order', key: 'oagf', expect: 'escalate',
    data: {
      config: {
        defaults: { models: ['gpt-4o-mini'], max_tokens: 4096 },
        approvers: { groups: ['security'] },
        agents: { planner: { tools: ['place_order'], limits: [{ tool: 'place_order', currency: 'USD', escalate_above: 1000000, deny_above: 5000000, approvers: { groups: ['procurement-leads'], min: 2 } }] } },
      },
    },
    input: {
      version: 'oagf/v1', agent: { id: 'planner', team: 'supply-chain', labels: {}, delegation: [] },
      action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { sku: 'STEEL-7', total: 2400000 }, amount: { value: 2400000, currency: 'USD' } },
      context: {}, budgets: {}, time: { now: '2026-11-27T14:05:00.000Z', unix_ms: 0, weekday: 'Friday', hour: 14, minute: 5 },
    },
  },
];
const gatewayData = { config: { defaults: { models: ['gpt-bench'], max_tokens: 8192 }, teams: { bench: { tools: ['lookup_stock'] } } } };
const benchAgent = { id: 'bench-agent', owner: 'bench@example.com', team: 'bench', labels: {}, delegation: [] };
const benchContext = { surface: 'openai', session_id: 's1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' };
oagfCases.push(
  {
    name: 'OAGF gateway llm.request', key: 'oagf_llm_request', expect: 'allow', data: gatewayData,
    input: {
      version: 'oagf/v1', agent: benchAgent,
      action: {
        kind: 'llm.request', target: { model: 'gpt-bench', path: '/v1/chat/completions' },
        arguments: { endpoint: 'chat/completions', tools: ['lookup_stock'], max_tokens: 256, messages: 2, messages_digest: `sha256:${'3a'.repeat(32)}` },
      },
      context: { ...benchContext, conversation: { messages: 2, digest: `sha256:${'3a'.repeat(32)}` } }, budgets: {}, time: benchTime,
    },
  },
  {
    name: 'OAGF gateway llm.tool_call', key: 'oagf_tool_call', expect: 'allow', data: gatewayData,
    input: {
      version: 'oagf/v1', agent: benchAgent,
      action: { kind: 'llm.tool_call', target: { tool: 'lookup_stock' }, arguments: { sku: 'SKU-1', warehouse: 'EU-1' } },
      context: { ...benchContext, tool_call_id: 'call_1' }, budgets: {}, time: benchTime,
    },
  },
);
const SESSION = process.argv.includes('--session');
if (SESSION) {
  const sessionData = {
    config: {
      ...gatewayData.config,
      teams: {
        bench: {
          tools: ['lookup_stock', 'read_document', 'http_post', 'place_order'],
          labels: [{ tool: 'read_document', labels: ['private'], source: 'board-documents' }, { tool: 'fetch_page', labels: ['untrusted'] }],
          egress: { tools: ['http_post'], allow: ['https://intranet.example/*'] },
          destructive_tools: ['delete_*'],
          limits: [{ tool: 'place_order', currency: 'USD', escalate_above: 1000000, deny_above: 5000000, window: '1h' }],
        },
      },
    },
  };
  const history = Array.from({ length: 20 }, (_, i) => {
    const tool = i === 3 ? 'read_document' : i === 7 ? 'fetch_page' : i % 4 === 1 ? 'place_order' : 'lookup_stock';
    return {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, index: i, time: benchTime.now, time_ms: benchTime.unix_ms - (20 - i) * 30_000,
      agent: 'bench-agent', kind: i % 2 ? 'llm.tool_call' : 'llm.request', target: i % 2 ? { tool, model: 'gpt-bench' } : { model: 'gpt-bench', path: '/v1/chat/completions' },
      digest: `sha256:${String(i).padStart(64, '0')}`, decision: 'allow', outcome: 'completed',
      ...(tool === 'place_order' && i % 2 ? { amount: { value: 1000, currency: 'USD' } } : {}),
      ...(tool === 'read_document' ? { labels: [{ label: 'private', source: 'board-documents' }] } : tool === 'fetch_page' ? { labels: [{ label: 'untrusted', source: 'fetch_page' }] } : {}),
    };
  });
  const ref = (a: (typeof history)[number]) => ({ id: a.id, index: a.index, kind: a.kind, target: a.target, agent: a.agent });
  const session = {
    id: 's1|bench-agent', digest: `sha256:${'ab'.repeat(32)}`, actions: history,
    totals: { '1h': { USD: { value: 5000, count: 5 } }, '24h': { USD: { value: 5000, count: 5 } } },
    labels: history.filter((a) => a.labels).flatMap((a) => a.labels!.map((l) => ({ ...l, from: ref(a) }))),
    flows: [],
  };
  for (const c of oagfCases.filter((c) => c.key === 'oagf_llm_request' || c.key === 'oagf_tool_call').map((c) => ({ ...c }))) {
    oagfCases.push({ ...c, name: `${c.name}, session on (20 actions)`, key: `${c.key}_session`, data: sessionData, input: { ...(c.input as object), session } });
  }
}
const oagfStats: Record<string, Stats> = {};
for (const c of oagfCases) {
  try {
    const q = compile({ modules: oagfModules, data: c.data }).prepare('data.oagf.decision');
    const d = q.eval({ input: c.input }).results[0]?.expressions[0].value as { outcome?: string } | undefined;
    if (d?.outcome !== c.expect) throw new Error(`outcome ${d?.outcome}, expected ${c.expect}: ${JSON.stringify(d)}`);
    for (let i = 0; i < 5_000; i++) q.eval({ input: c.input });
    oagfStats[c.key] = measure(20_000, () => q.eval({ input: c.input }));
    console.log(`${c.name} (outcome: ${d.outcome})`);
    line('  engine (prepared query)', oagfStats[c.key]);
  } catch (e) {
    console.log(`${c.name}: not measured (${(e as Error).message.split('\n')[0]})`);
  }
}

const sessionRatios: Record<string, number> = {};
for (const key of SESSION ? ['oagf_llm_request', 'oagf_tool_call'] : []) {
  const on = oagfStats[`${key}_session`];
  const off = oagfStats[key];
  if (!on || !off) continue;
  sessionRatios[`${key}_session_cpu_ratio`] = round(on.cpu_us / off.cpu_us);
  console.log(`  ${key}: session on/off CPU per evaluation ${on.cpu_us}/${off.cpu_us} µs = ${sessionRatios[`${key}_session_cpu_ratio`]} (p50 ${on.p50_us}/${off.p50_us} µs)`);
}

// (c) compile time of a 1,000-rule policy
const rules: string[] = ['package big', 'import rego.v1'];
for (let i = 0; i < 1000; i++) {
  rules.push(`r${i} if {\n\tinput.kind == "k${i}"\n\tsome x in input.items\n\tx.v > ${i}\n\tstartswith(x.name, "n${i % 10}")\n}`);
}
const src = rules.join('\n\n');
const compileTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const c0 = process.hrtime.bigint();
  compile({ modules: { 'big.rego': src } });
  compileTimes.push(round(Number(process.hrtime.bigint() - c0) / 1e6));
}
const compileMs = [...compileTimes].sort((a, b) => a - b)[2];
console.log(`Compile 1,000-rule policy (${src.length} bytes): first ${compileTimes[0]} ms, median of 5 ${compileMs} ms`);

// (d) 1,000 rules of one name, each testing input.kind: indexing keeps evaluation flat
const many: string[] = ['package many', 'default allow := false'];
for (let i = 0; i < 1000; i++) many.push(`allow if {\n\tinput.kind == "k${i}"\n\tinput.n > ${i}\n}`);
const manyQ = compile({ modules: { 'many.rego': many.join('\n') } }).prepare('data.many.allow');
for (let i = 0; i < 5_000; i++) manyQ.eval({ input: { kind: `k${i % 1000}`, n: 2000 } });
const indexed = measure(50_000, (i) => manyQ.eval({ input: { kind: `k${i % 1000}`, n: 2000 } }));
line('1,000 same-name rules (indexed)', indexed);

console.log(JSON.stringify({
  rbac_p50_us: engine.p50_us, rbac_p99_us: engine.p99_us, rbac_evals_per_s: engine.evals_per_s,
  rbac_cpu_us_per_eval: engine.cpu_us, handwritten_p50_us: hand.p50_us, ratio_vs_handwritten: ratio,
  ...Object.fromEntries(Object.entries(oagfStats).flatMap(([k, s]) => [
    [`${k}_p50_us`, s.p50_us], [`${k}_p99_us`, s.p99_us], [`${k}_evals_per_s`, s.evals_per_s], [`${k}_cpu_us_per_eval`, s.cpu_us],
  ])),
  ...sessionRatios,
  indexed_1000_rules_p50_us: indexed.p50_us, compile_1000_rules_ms: compileMs, compile_1000_rules_first_ms: compileTimes[0],
}));
