/**
 * The MCP server the agent talks to: one SDK `Server` per session (2025 revisions) or per request (the stateless
 * 2026 revision), built on the low-level `Server` because the gatekeeper owns dispatch. Every method that reaches an
 * upstream goes through governed.ts, listings of resources and prompts included; resource templates pass through
 * (they are patterns, not resources: every read through one is decided).
 */
import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type ServerContext } from '@modelcontextprotocol/server';
import type { Endpoint, UpstreamEntry } from './endpoint.js';
import { APPROVAL_META, callTool, getPrompt, listDecided, listTools, readResource, subscribeResource, type Caller, type Governance, type McpRequest } from './governed.js';
import type { Subscriptions } from './subscriptions.js';

export const SERVER_INFO = { name: 'oagf-gatekeeper', version: '0.1.0' };
const LOGGER = 'oagf-gatekeeper';

/** How a running tools/call talks back to the agent: progress it asked for, and why it waits. */
export interface CallChannel {
  notify(method: string, params: Record<string, unknown>): void;
  /** A `notice` log message for the agent (the server's logging level applies). */
  log(message: string): void;
  /** Asks the client's user, when the client can (elicitation). */
  elicit?(message: string): void;
}

export interface ToolCallParams {
  name: string;
  arguments?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}

/** The agent's tools/call, whichever way it arrived (the SDK's dispatch or the hot path in lean-call.ts). */
export function agentToolCall(g: Governance, base: McpRequest, params: ToolCallParams, channel: CallChannel): Promise<CallToolResult> {
  const token = params._meta?.progressToken as string | number | undefined;
  const approval = params._meta?.[APPROVAL_META];
  let step = 0;
  const progress = (p: { progress: number; total?: number; message?: string }) => channel.notify('notifications/progress', { progressToken: token!, ...p });
  const r: McpRequest = {
    ...base,
    ...(token !== undefined ? { progress } : {}),
    ...(typeof approval === 'string' ? { approval } : {}),
    waiting: (message) => {
      if (token !== undefined) progress({ progress: step++, message });
      channel.log(message);
      channel.elicit?.(message);
    },
  };
  return callTool(g, r, params.name, params.arguments ?? {});
}

export interface SessionParts {
  governance: Governance;
  subscriptions: Subscriptions;
}

export function createSessionServer(endpoint: Endpoint, parts: SessionParts): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {} },
    instructions: `Tools are served through the OAGF gatekeeper: every call is decided by policy and recorded${endpoint.aggregate ? '; tool names are <server>__<tool>' : ''}.`,
  });
  const g = parts.governance;
  const request = (ctx: ServerContext, extra: Partial<McpRequest> = {}): McpRequest => {
    const caller = (ctx.http?.authInfo?.extra as { caller?: Caller } | undefined)?.caller;
    // The HTTP edge authenticates every request; a request without a caller never reaches an upstream.
    if (!caller) throw new ProtocolError(ProtocolErrorCode.InvalidRequest, 'unauthenticated request');
    const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
    const version = server.getNegotiatedProtocolVersion() ?? (envelope['io.modelcontextprotocol/protocolVersion'] as string | undefined);
    const client = server.getClientVersion() ?? (envelope['io.modelcontextprotocol/clientInfo'] as { name: string; version: string } | undefined);
    return {
      caller,
      endpoint,
      ...(ctx.sessionId ? { session: ctx.sessionId } : {}),
      ...(version ? { protocolVersion: version } : {}),
      ...(client ? { client } : {}),
      signal: ctx.mcpReq.signal,
      ...extra,
    };
  };

  server.setRequestHandler('tools/list', async (_req, ctx) => listTools(g, request(ctx)));

  server.setRequestHandler('tools/call', async (req, ctx) =>
    agentToolCall(g, request(ctx), req.params, {
      notify: (method, params) => void ctx.mcpReq.notify({ method, params } as never).catch(() => {}),
      log: (message) => void ctx.mcpReq.log('notice', message, LOGGER).catch(() => {}),
      // A client that can ask its user shows why the call waits; the answer changes nothing (a reviewer decides).
      ...(server.getClientCapabilities()?.elicitation && !ctx.mcpReq.envelope ? { elicit: (message: string) => void ctx.mcpReq.elicitInput({ message, requestedSchema: { type: 'object', properties: {} } }).catch(() => {}) } : {}),
    }),
  );

  server.setRequestHandler('resources/list', async (_req, ctx) => {
    const r = request(ctx);
    const offered = await gather(endpoint, async (entry) => {
      const { resources } = await (await entry.upstream.ready()).listResources();
      endpoint.noteResources(entry, resources.map((res) => res.uri));
      return resources.map((item) => ({ item, server: entry.name, name: item.uri }));
    });
    return { resources: await listDecided(g, r, 'mcp.resources_list', offered) };
  });

  server.setRequestHandler('resources/templates/list', async (_req, ctx) => {
    request(ctx);
    return { resourceTemplates: await gather(endpoint, async (entry) => (await (await entry.upstream.ready()).listResourceTemplates()).resourceTemplates) };
  });

  server.setRequestHandler('resources/read', async (req, ctx) => readResource(g, request(ctx), req.params.uri));

  server.setRequestHandler('resources/subscribe', async (req, ctx) =>
    subscribeResource(g, request(ctx), req.params.uri, (entry, uri) => parts.subscriptions.subscribe(entry, uri, server)),
  );

  server.setRequestHandler('resources/unsubscribe', async (req, ctx) => {
    request(ctx);
    const entry = endpoint.resourceOwner(req.params.uri);
    if (entry) await parts.subscriptions.unsubscribe(entry, req.params.uri, server);
    return {};
  });

  server.setRequestHandler('prompts/list', async (_req, ctx) => {
    const r = request(ctx);
    const offered = await gather(endpoint, async (entry) =>
      (await (await entry.upstream.ready()).listPrompts()).prompts.map((p) => ({ item: { ...p, name: endpoint.exposed(entry.prefix, p.name) }, server: entry.name, name: p.name })),
    );
    return { prompts: await listDecided(g, r, 'mcp.prompts_list', offered) };
  });

  server.setRequestHandler('prompts/get', async (req, ctx) => getPrompt(g, request(ctx), req.params.name, (req.params.arguments ?? {}) as Record<string, string>));

  server.onclose = () => parts.subscriptions.drop(server);
  return server;
}

/** Items from every server of the endpoint; on `/mcp` a server that is down is skipped, on its own endpoint it fails. */
async function gather<T>(endpoint: Endpoint, list: (entry: UpstreamEntry) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (const entry of endpoint.entries) {
    try {
      out.push(...(await list(entry)));
    } catch (err) {
      if (!endpoint.aggregate) throw new ProtocolError(ProtocolErrorCode.InternalError, (err as Error).message);
    }
  }
  return out;
}
