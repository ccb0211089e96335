/**
 * Every MCP request that reaches an upstream or shows an agent what it may use is an action decided by the gate
 * first: tools/call → `mcp.tool_call`, tools/list → `mcp.tools_list`, resources/read → `mcp.resource_read`,
 * resources/subscribe → `mcp.resource_subscribe`, prompts/get → `mcp.prompt_get`, resources/list →
 * `mcp.resources_list`, prompts/list → `mcp.prompts_list`. The upstream request is built
 * from the judged action only; the result passes the decision's obligations (results.ts) and its outcome record
 * keeps a redacted excerpt.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { CallToolResult, GetPromptResult, ReadResourceResult, Tool } from '@modelcontextprotocol/server';
import type { ExecutionContext, Executed, Refusal } from '../../gate/index.js';
import { attemptOf, type AttemptBase } from '../../http/attempt.js';
import { labelsOf } from '../../obligations.js';
import type { Redactor } from '../../redact.js';
import type { OagfAction, OagfContext } from '../../spec/index.js';
import type { SurfaceDeps } from '../../surface.js';
import type { CatalogTool } from './catalog.js';
import type { Endpoint, UpstreamEntry } from './endpoint.js';
import { fulfil, HIDE_TOOLS_OBLIGATION, resultFacts, type ResultLike } from './results.js';
import { McpUnavailable } from './upstream.js';
import { outcomeResult, SANDBOX_SERVER, SANDBOX_TOOL, sandboxFailure, type SandboxTool } from './sandbox-tool.js';
import type { RetryBook } from './retries.js';

/** Who calls, resolved at the HTTP edge for every request (bearer key or JWT). */
export interface Caller {
  base: AttemptBase;
}

/** One MCP request as the governed operations see it. */
export interface McpRequest {
  caller: Caller;
  endpoint: Endpoint;
  session?: string;
  protocolVersion?: string;
  client?: { name: string; version: string };
  signal: AbortSignal;
  /** Forwards upstream progress to the agent (when it asked for progress). */
  progress?: (p: { progress: number; total?: number; message?: string }) => void;
  /** Tells the agent, in the protocol's own way, that a reviewer must decide first. */
  waiting?: (message: string) => void;
  /** The approval the agent retries with (`_meta["dev.oagf/approval"]`). */
  approval?: string;
}

export interface Governance {
  deps: SurfaceDeps;
  redactor: Redactor;
  retries: RetryBook;
}

export const APPROVAL_META = 'dev.oagf/approval';
export const DECISION_META = 'dev.oagf/decision';

export async function listTools(g: Governance, r: McpRequest): Promise<{ tools: Tool[] }> {
  const offered: CatalogTool[] = [];
  for (const entry of r.endpoint.entries) {
    try {
      offered.push(...(await entry.catalog.list()));
    } catch (err) {
      // On the aggregate endpoint one server that is down must not hide the others; on its own endpoint it is the answer.
      if (!r.endpoint.aggregate) throw asProtocolError(err);
      g.deps.logger.warn({ mcp_server: entry.name, err: (err as Error).message }, 'tools/list: server skipped');
    }
  }
  const sandbox = r.endpoint.sandbox;
  if (sandbox) offered.push(await sandbox.listed());
  const action: OagfAction = {
    kind: 'mcp.tools_list',
    target: r.endpoint.server ? { server: r.endpoint.server } : {},
    tools: offered.map((t) => ({
      server: t.server,
      tool: t.definition.name,
      annotations: t.definition.annotations ?? {},
      definition: definitionFacts(t),
      // The sandbox's tool is not called upstream: its call is judged as the action named here.
      ...(sandbox && t.server === SANDBOX_SERVER ? { action: 'sandbox.exec' } : {}),
    })),
  };
  const result = await g.deps.gate.run(attempt(r, action), async (judged) => {
    const hidden = hiddenBy(judged, HIDE_TOOLS_OBLIGATION, 'tools', 'tool');
    const listed = offered.filter((t, i) => !hidden.has(`${t.server}\n${t.definition.name}`) && judged.action.tools?.[i]?.definition.digest === t.digest);
    const tools = listed.map((t) => ({ ...t.definition, name: r.endpoint.exposed(r.endpoint.entry(t.server)?.prefix ?? t.server, t.definition.name) }));
    return { value: tools, settlement: { settle: {} }, facts: { offered: offered.length, listed: tools.length, hidden: [...hidden].map((k) => k.replace('\n', '/')) } };
  });
  if (!result.ok) throw refusalError(result.refusal);
  return { tools: result.value };
}

/** `<server>\n<name>` of every item a `hide_*` obligation of the decision names. */
function hiddenBy(judged: ExecutionContext, type: string, field: string, name: string): Set<string> {
  const hidden = new Set<string>();
  for (const o of judged.decision.obligations) {
    if (o.type !== type) continue;
    for (const item of (o[field] ?? []) as Record<string, unknown>[]) hidden.add(`${item.server}\n${item[name]}`);
  }
  return hidden;
}

/** An item of a resources/list or prompts/list answer, with what the policy sees of it. */
export interface Offered<T> {
  item: T;
  server: string;
  /** The resource URI or the prompt name as the server gives it. */
  name: string;
}

const LISTINGS = {
  'mcp.resources_list': { field: 'resources', name: 'uri', obligation: 'hide_resources' },
  'mcp.prompts_list': { field: 'prompts', name: 'prompt', obligation: 'hide_prompts' },
} as const;

/** resources/list and prompts/list as one decided action each: what the decision hides, the agent never sees. */
export async function listDecided<T>(g: Governance, r: McpRequest, kind: keyof typeof LISTINGS, offered: Offered<T>[]): Promise<T[]> {
  const { field, name, obligation } = LISTINGS[kind];
  const action: OagfAction = { kind, target: r.endpoint.server ? { server: r.endpoint.server } : {}, [field]: offered.map((o) => ({ server: o.server, [name]: o.name })) };
  const result = await g.deps.gate.run(attempt(r, action), async (judged) => {
    const hidden = hiddenBy(judged, obligation, field, name);
    const listed = offered.filter((o) => !hidden.has(`${o.server}\n${o.name}`));
    return { value: listed.map((o) => o.item), settlement: { settle: {} }, facts: { offered: offered.length, listed: listed.length, hidden: [...hidden].map((k) => k.replace('\n', '/')) } };
  });
  if (!result.ok) throw refusalError(result.refusal);
  return result.value;
}

export async function callTool(g: Governance, r: McpRequest, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  if (r.endpoint.sandbox && name === r.endpoint.exposed(SANDBOX_SERVER, SANDBOX_TOOL)) return runSandbox(g, r, r.endpoint.sandbox, args);
  const resolved = r.endpoint.resolve(name);
  if (!resolved) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown tool ${name}`);
  const { entry } = resolved;
  const tool = await catalogTool(entry, resolved.name);
  const action: OagfAction = {
    kind: 'mcp.tool_call',
    target: { server: entry.name, tool: resolved.name },
    arguments: args,
    tool: { annotations: tool.definition.annotations ?? {}, definition: definitionFacts(tool) },
  };
  return decideCall(g, r, action, async (judged) => {
    // What was judged is what is called: the tool as judged (same definition digest), the judged arguments.
    const current = await catalogTool(entry, judged.action.target.tool!);
    if (current.digest !== judged.action.tool?.definition.digest) throw new McpUnavailable(`the definition of tool ${judged.action.target.tool} changed while the call was decided; list the tools again`);
    const called = await entry.upstream.callTool(
      { name: judged.action.target.tool!, arguments: judged.action.arguments as Record<string, unknown> },
      { signal: r.signal, timeout: entry.timeoutMs, ...(r.progress ? { onprogress: r.progress } : {}) },
      current.definition,
    );
    return carriedOut(g, judged, called, called.isError ? 'the tool reported an error' : undefined);
  });
}

/** `sandbox__run`: the `sandbox.exec` action of the HTTP surface, carried out by the same run step. */
async function runSandbox(g: Governance, r: McpRequest, sandbox: SandboxTool, args: Record<string, unknown>): Promise<CallToolResult> {
  const request = sandbox.read(args);
  return decideCall(g, r, request.action, async (judged) => {
    let executed;
    try {
      executed = await sandbox.service.run(request, judged, { signal: r.signal });
    } catch (err) {
      throw sandboxFailure(err);
    }
    // The decision's result obligations (redact, size limits, labels) hold as on any tool result; the outcome record
    // keeps the execution's facts (and says so when the result was withheld from the agent).
    const carried = carriedOut(g, judged, outcomeResult(executed.value, judged.recordId));
    const withheld = carried.facts?.withheld;
    return { ...carried, settlement: executed.settlement, facts: { ...executed.facts, ...(withheld ? { withheld } : {}) } };
  });
}

/**
 * A tools/call decided: the approval the agent retries with (its `_meta`, the header, or the one the gatekeeper
 * remembers for this exact call) is bound to the action; a refusal is a tool result the client shows.
 */
async function decideCall(g: Governance, r: McpRequest, action: OagfAction, carry: Carry<CallToolResult>): Promise<CallToolResult> {
  const retryKey = g.retries.key(r.caller.base.agent.id, action);
  const approval = r.approval ?? r.caller.base.approval ?? g.retries.get(retryKey);
  const result = await run(g, { ...r, ...(approval ? { approval } : {}) }, action, carry);
  if (result.ok) {
    g.retries.forget(retryKey);
    return result.value;
  }
  if (result.refusal.kind === 'approval_pending') g.retries.remember(retryKey, result.refusal.approval!.id);
  else g.retries.forget(retryKey);
  return refusalResult(result.refusal);
}

export async function readResource(g: Governance, r: McpRequest, uri: string): Promise<ReadResourceResult> {
  const entry = resourceOwner(r.endpoint, uri);
  const action: OagfAction = { kind: 'mcp.resource_read', target: { server: entry.name, uri } };
  const result = await run(g, r, action, async (judged) => {
    const read = await (await entry.upstream.ready()).readResource({ uri: judged.action.target.uri! }, { signal: r.signal, timeout: entry.timeoutMs });
    return carriedOut(g, judged, read as ReadResourceResult);
  });
  if (!result.ok) throw refusalError(result.refusal);
  return result.value;
}

export async function subscribeResource(g: Governance, r: McpRequest, uri: string, subscribe: (entry: UpstreamEntry, uri: string) => Promise<void>): Promise<Record<string, never>> {
  const entry = resourceOwner(r.endpoint, uri);
  const action: OagfAction = { kind: 'mcp.resource_subscribe', target: { server: entry.name, uri } };
  const result = await run(g, r, action, async (judged) => {
    await subscribe(entry, judged.action.target.uri!);
    return { value: {}, settlement: { settle: {} } };
  });
  if (!result.ok) throw refusalError(result.refusal);
  return {};
}

export async function getPrompt(g: Governance, r: McpRequest, name: string, args: Record<string, string>): Promise<GetPromptResult> {
  const resolved = r.endpoint.resolve(name);
  if (!resolved) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown prompt ${name}`);
  const { entry } = resolved;
  const action: OagfAction = { kind: 'mcp.prompt_get', target: { server: entry.name, prompt: resolved.name }, arguments: args };
  const result = await run(g, r, action, async (judged) => {
    const prompt = await (await entry.upstream.ready()).getPrompt({ name: judged.action.target.prompt!, arguments: judged.action.arguments as Record<string, string> }, { signal: r.signal, timeout: entry.timeoutMs });
    return carriedOut(g, judged, prompt as GetPromptResult);
  });
  if (!result.ok) throw refusalError(result.refusal);
  return result.value;
}

type Carry<T> = (judged: ExecutionContext) => Promise<Executed<T>>;

/** One decided action; an execution that throws (upstream down, timeout) becomes a JSON-RPC error naming why. */
async function run<T>(g: Governance, r: McpRequest, action: OagfAction, carry: Carry<T>) {
  try {
    return await g.deps.gate.run(attempt(r, action), carry, {
      held: ({ decision }) => r.waiting?.(`Waiting for a human reviewer to approve this ${action.kind} (${decision.reasons.join('; ') || 'escalated by policy'}). The call continues once it is approved.`),
    });
  } catch (err) {
    throw asProtocolError(err);
  }
}

function carriedOut<T extends ResultLike>(g: Governance, judged: ExecutionContext, result: T, failed?: string): Executed<T> {
  const fulfilled = fulfil(result, judged.decision.obligations);
  if (!fulfilled.ok) {
    const withheld = { content: [{ type: 'text', text: `The gatekeeper withheld the result: ${fulfilled.problem}.` }], isError: true } as unknown as T;
    return { value: withheld, settlement: { settle: {} }, facts: { withheld: fulfilled.problem, result_bytes: fulfilled.bytes } };
  }
  const facts = resultFacts(fulfilled.result, fulfilled.bytes, g.redactor);
  // A labelled result is handed to the lifecycle as the agent gets it, for the session's fingerprints.
  const labelled = labelsOf(judged.decision.obligations, '').length > 0;
  return { value: fulfilled.result, settlement: failed ? { release: failed } : { settle: {} }, facts, ...(labelled ? { content: fulfilled.result } : {}) };
}

function attempt(r: McpRequest, action: OagfAction) {
  const { base } = r.caller;
  const context: OagfContext = {
    ...base.context,
    ...(base.context.session_id ?? r.session ? { session_id: base.context.session_id ?? r.session } : {}),
    mcp: {
      endpoint: r.endpoint.path,
      ...(r.session ? { session: r.session } : {}),
      ...(r.protocolVersion ? { protocol_version: r.protocolVersion } : {}),
      ...(r.client ? { client: { name: r.client.name, version: r.client.version } } : {}),
    },
  };
  return attemptOf({ ...base, ...(r.approval ? { approval: r.approval } : {}) }, 'mcp', action, { context });
}

async function catalogTool(entry: UpstreamEntry, name: string): Promise<CatalogTool> {
  let tool: CatalogTool | undefined;
  try {
    tool = await entry.catalog.get(name);
  } catch (err) {
    throw asProtocolError(err);
  }
  if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown tool ${name} on MCP server ${entry.name}`);
  return tool;
}

function definitionFacts(t: CatalogTool) {
  return { digest: t.digest, pinned_digest: t.pin.digest, changed: t.changed, pinned_at: t.pin.at };
}

/** The server a resource URI belongs to: the one endpoint server, or on `/mcp` the server that listed it. */
function resourceOwner(endpoint: Endpoint, uri: string): UpstreamEntry {
  if (!endpoint.aggregate) return endpoint.entries[0]!;
  const owner = endpoint.resourceOwner(uri);
  if (!owner) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `resource ${uri} is not offered by any server (list resources first)`);
  return owner;
}

/** A refused tools/call as a tool result the client shows the model: the reasons and the decision record. */
export function refusalResult(refusal: Refusal): CallToolResult {
  if (refusal.kind === 'fault' || refusal.kind === 'unauthenticated') throw refusalError(refusal);
  const meta = { [DECISION_META]: decisionMeta(refusal), ...(refusal.approval ? { [APPROVAL_META]: { id: refusal.approval.id, retry_after: refusal.approval.retryAfterSeconds } } : {}) };
  const text =
    refusal.kind === 'approval_pending'
      ? `${refusal.message}. A reviewer must approve it first (approval ${refusal.approval!.id}); call the tool again with the same arguments once it is approved${refusal.approval!.retryAfterSeconds ? ` (check again in ${refusal.approval!.retryAfterSeconds} s)` : ''}.`
      : `The gatekeeper refused this call: ${refusal.message} (decision ${refusal.recordId}).`;
  return { content: [{ type: 'text', text }], isError: true, _meta: meta };
}

/** A refusal of anything but a tool call (and any gatekeeper fault) as a JSON-RPC error. */
export function refusalError(refusal: Refusal): ProtocolError {
  const code = refusal.kind === 'fault' ? ProtocolErrorCode.InternalError : ProtocolErrorCode.InvalidRequest;
  const data = { ...decisionMeta(refusal), ...(refusal.approval ? { approval_id: refusal.approval.id } : {}) };
  return new ProtocolError(code, refusal.kind === 'fault' ? `the gatekeeper failed closed: ${refusal.message}` : `the gatekeeper refused this request: ${refusal.message}`, data);
}

function decisionMeta(refusal: Refusal) {
  const { decision } = refusal;
  return { kind: refusal.kind, outcome: decision.outcome, reasons: decision.reasons, record_id: refusal.recordId, ...(refusal.index !== undefined ? { index: refusal.index } : {}), ...(decision.fault ? { fault: decision.fault.code } : {}) };
}

/** Upstream failures as JSON-RPC errors that say what happened; protocol errors from the upstream pass as they are. */
export function asProtocolError(err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const e = err as { code?: unknown; message?: string };
  if (err instanceof McpUnavailable) return new ProtocolError(ProtocolErrorCode.InternalError, err.message);
  if (e?.code === 'REQUEST_TIMEOUT') return new ProtocolError(ProtocolErrorCode.InternalError, `the MCP server did not answer in time; the call was cancelled (${e.message})`);
  if (typeof e?.code === 'number') return new ProtocolError(e.code, e.message ?? 'upstream error', (err as { data?: unknown }).data);
  return new ProtocolError(ProtocolErrorCode.InternalError, `the MCP server failed: ${e?.message ?? String(err)}`);
}
