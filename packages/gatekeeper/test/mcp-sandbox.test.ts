/**
 * The sandbox as an MCP tool: an agent connected to `/mcp` with the official SDK client (Streamable HTTP) sees
 * `sandbox__run` when `sandbox:` is configured and the policy lets it run code; a call is the same `sandbox.exec`
 * action as `POST /v1/sandbox/executions`, decided before anything runs (the real bubblewrap sandbox, the standard
 * library), held for a reviewer when escalated and run once when approved, and recorded with its outcome.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { hashApiKey } from '../src/auth/agents.js';
import { approvalsModule } from '../src/approvals/module.js';
import type { ApprovalService } from '../src/approvals/service.js';
import { MODULES } from '../src/server.js';
import { KEYS } from './core/fixture.js';
import { connect, MCP_SETTINGS, startMcpGatekeeper, waitFor, type McpFixture } from './support/mcp.js';

const ADMIN = { authorization: 'Bearer admin-key' };
const rita = { username: 'rita', displayName: 'Rita', roles: ['reviewer' as const], groups: ['reviewers'] };

interface Outcome {
  record_id: string;
  status: string;
  exit_code: number | null;
  stdout: string;
  stderr: string;
}

describe('MCP tool sandbox__run', () => {
  let fx: McpFixture;
  let approvals: ApprovalService;
  let buyer: Client;
  let planner: Client;

  before(async () => {
    const settings = structuredClone(MCP_SETTINGS) as { agents: Record<string, Record<string, unknown>> };
    settings.agents.buyer = { ...settings.agents.buyer, sandbox_languages: ['python'], sandbox_hosts: ['pypi.org:443'] };
    fx = await startMcpGatekeeper({
      settings: { config: settings },
      servers: {},
      config: {
        sandbox: { warm: 1, default_limits: { wallTimeMs: 20_000 } },
        admin: { api_keys: [hashApiKey('admin-key')] },
        approvals: { database: ':memory:', signing_key_file: './approval.pem', modes: { mcp: 'hold' } },
      },
      build: { modules: MODULES.map((m) => (m.name === 'approvals' ? approvalsModule({ onReady: (s) => (approvals = s) }) : m)) },
    });
    buyer = await connect(fx.url, KEYS.buyer);
    planner = await connect(fx.url, KEYS.planner);
  });
  after(async () => {
    await buyer?.close();
    await planner?.close();
    await fx?.close();
  });

  /** Executions the host's sandbox carried out (its own counter), whatever the agent was told. */
  const ran = async () => {
    const text = await (await fetch(`${fx.url}/metrics`, { headers: ADMIN })).text();
    return [...text.matchAll(/^gatekeeper_sandbox_executions_total\{status="[a-z_]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const texts = (r: { content?: unknown }) => (r.content as { type: string; text: string }[]).map((c) => c.text).join('\n');

  test('tools/list: the tool is offered to an agent that may run code, hidden from one that may not', async () => {
    const { tools } = await buyer.listTools();
    const run = tools.find((t) => t.name === 'sandbox__run');
    assert.ok(run, `buyer sees sandbox__run among ${tools.map((t) => t.name).join(', ')}`);
    assert.equal(run.inputSchema.type, 'object');
    assert.ok((run.inputSchema.properties as Record<string, unknown>).language, 'the schema is the HTTP surface\'s body');
    assert.equal(run.annotations?.destructiveHint, false);
    assert.equal((await planner.listTools()).tools.some((t) => t.name === 'sandbox__run'), false, 'planner has no sandbox_languages');
  });

  test('an allowed run returns its output as content and the outcome as structuredContent, recorded in the ledger', async () => {
    const before = await ran();
    const result = await buyer.callTool({ name: 'sandbox__run', arguments: { language: 'python', code: 'import sys\nprint("hello", sys.argv[1])\nprint("warn", file=sys.stderr)', args: ['mcp'] } });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.match(texts(result), /status: exit code 0/);
    assert.match(texts(result), /stdout:\nhello mcp\n/);
    assert.match(texts(result), /stderr:\nwarn\n/);
    const outcome = result.structuredContent as unknown as Outcome;
    assert.equal(outcome.status, 'exited');
    assert.equal(outcome.exit_code, 0);
    assert.equal(outcome.stdout, 'hello mcp\n');
    assert.equal(await ran(), before + 1);

    const ledger = fx.gk.deps.ledger!;
    await waitFor(async () => !!(await ledger.findById(`${outcome.record_id}.outcome`)));
    const decision = (await ledger.findById(outcome.record_id))!.record;
    assert.equal(decision.outcome, 'allow');
    const input = JSON.parse(Buffer.from((await ledger.getPayload(decision.payloads!.input!))!).toString()) as { action: { kind: string; arguments: { code: string } }; context: { surface: string; mcp: { endpoint: string } } };
    assert.equal(input.action.kind, 'sandbox.exec', 'the same action as the HTTP surface');
    assert.match(input.action.arguments.code, /print\("hello"/);
    assert.equal(input.context.surface, 'mcp', 'a policy can tell the surface');
    assert.equal(input.context.mcp.endpoint, '/mcp');
    const facts = (await ledger.findById(`${outcome.record_id}.outcome`))!.record.data as { status: string; exit_code: number; stdout: { bytes: number; sha256: string }; egress: unknown[] };
    assert.equal(facts.status, 'exited');
    assert.equal(facts.exit_code, 0);
    assert.equal(facts.stdout.bytes, 10);
    assert.match(facts.stdout.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(facts.egress, []);
  });

  test('a denied run is an error result the client shows, and nothing runs', async () => {
    const before = await ran();
    const denied = await buyer.callTool({ name: 'sandbox__run', arguments: { language: 'javascript', code: 'console.log("never")' } });
    assert.equal(denied.isError, true);
    assert.match(texts(denied), /running javascript code in the sandbox is not allowed for agent buyer/);
    const decision = (denied._meta as Record<string, { outcome: string; record_id: string }>)['dev.oagf/decision']!;
    assert.equal(decision.outcome, 'deny');
    const ledger = fx.gk.deps.ledger!;
    await waitFor(async () => !!(await ledger.findById(decision.record_id)));
    assert.equal((await ledger.findById(decision.record_id))!.record.outcome, 'deny');
    assert.equal(await ledger.findById(`${decision.record_id}.outcome`), undefined, 'no execution outcome recorded');
    const planned = await planner.callTool({ name: 'sandbox__run', arguments: { language: 'python', code: 'print("never")' } });
    assert.equal(planned.isError, true, 'a hidden tool called anyway is refused by the same policy');
    assert.match(texts(planned), /running python code in the sandbox is not allowed for agent planner/);
    assert.equal(await ran(), before, 'no execution started on the host');
  });

  test('arguments the HTTP surface would refuse are invalid params', async () => {
    await assert.rejects(buyer.callTool({ name: 'sandbox__run', arguments: { language: 'cobol', code: 'x' } }), /invalid sandbox\.run arguments/);
  });

  test('network access escalates: the call is held, runs once when approved; the same call again waits for a new verdict', async () => {
    const args = { language: 'python', code: 'print("after approval")', network: { allow: ['evil.example:443'] } };
    const before = await ran();
    const call = buyer.callTool({ name: 'sandbox__run', arguments: args });
    call.catch(() => {});
    await waitFor(async () => (await approvals.list({ status: ['pending'] })).length === 1);
    const [pending] = await approvals.list({ status: ['pending'] });
    assert.equal(pending!.surface, 'mcp');
    assert.equal((pending!.input as { action: { kind: string; arguments: { code: string } } }).action.arguments.code, args.code, 'the reviewer sees the code');
    assert.equal(await ran(), before, 'held: nothing ran before the verdict');
    await approvals.decide(pending!.id, rita, 'approve', 'fine');
    const result = await call;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal((result.structuredContent as unknown as Outcome).stdout, 'after approval\n');
    assert.equal(await ran(), before + 1);

    const again = buyer.callTool({ name: 'sandbox__run', arguments: args });
    again.catch(() => {});
    await waitFor(async () => (await approvals.list({ status: ['pending'] })).length === 1);
    const [second] = await approvals.list({ status: ['pending'] });
    assert.notEqual(second!.id, pending!.id, 'the approval was used once');
    await approvals.decide(second!.id, rita, 'reject', 'once is enough');
    const rejected = await again;
    assert.equal(rejected.isError, true);
    assert.match(texts(rejected), /rejected by rita/);
    assert.equal(await ran(), before + 1, 'the rejected call never ran');
  });
});

test('an MCP server named or prefixed "sandbox" is refused while sandbox: is configured (the tool name would be ambiguous)', async () => {
  await assert.rejects(
    startMcpGatekeeper({ servers: { tools: { stdio: { command: process.execPath, args: ['-e', ''] }, prefix: 'sandbox' } }, config: { sandbox: {} } }),
    /mcp\.servers\.tools: the name or prefix "sandbox" is the sandbox's tool on \/mcp/,
  );
});
