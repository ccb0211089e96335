/**
 * The agent side over Streamable HTTP: `/mcp` and `/mcp/<server>`.
 *
 * - Every request is authenticated with the agent's gatekeeper key (bearer, like the other surfaces). Without one
 *   the answer is 401 with `WWW-Authenticate: Bearer resource_metadata=…`, and the RFC 9728 protected-resource
 *   metadata is served under `/.well-known/oauth-protected-resource/mcp…`, so standard clients find out how to
 *   authenticate.
 * - The body is parsed as strict JSON (duplicate keys, unsafe integers, shape limits refused) before the SDK sees
 *   it: malformed JSON-RPC gets a JSON-RPC error, never a crash.
 * - 2025 revisions (2025-06-18, 2025-11-25, and older ones the SDK still speaks) run in sessions: `initialize`
 *   opens one (`Mcp-Session-Id`), bound to the agent that opened it; GET opens its notification stream, DELETE ends
 *   it. The stateless 2026-07-28 revision (no initialize, a `_meta` envelope per request) is served per request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import { createMcpHandler, isInitializeRequest, isLegacyRequest } from '@modelcontextprotocol/server';
import type { McpConfig } from '../../config/schema.js';
import { beginAttempt } from '../../http/attempt.js';
import { readBody, sendJson, type Router } from '../../http/router.js';
import { parseStrictJson, StrictJsonError } from '../../json/strict.js';
import type { SurfaceDeps } from '../../surface.js';
import type { Endpoint } from './endpoint.js';
import type { Caller } from './governed.js';
import { isLeanToolCall, leanToolCall, type LeanSession } from './lean-call.js';
import { createSessionServer, type SessionParts } from './session.js';

interface Session extends LeanSession {
  transport: NodeStreamableHTTPServerTransport;
  agent: string;
  lastSeen: number;
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export class McpHttp {
  private readonly sessions = new Map<string, Session>();
  private readonly modern = new Map<Endpoint, ReturnType<typeof toNodeHandler>>();
  private readonly handlers: { close(): Promise<void> }[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly deps: SurfaceDeps,
    private readonly config: McpConfig,
    private readonly endpoints: Map<string, Endpoint>,
    private readonly parts: SessionParts,
  ) {
    for (const endpoint of endpoints.values()) {
      const handler = createMcpHandler(() => createSessionServer(endpoint, parts), { legacy: 'reject' });
      this.handlers.push(handler);
      this.modern.set(endpoint, toNodeHandler(handler));
    }
    const idleMs = config.sessions.idle_timeout_s * 1000;
    this.sweeper = setInterval(() => this.sweep(idleMs), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  register(router: Router): void {
    router.add('*', '/mcp', (req, res) => this.handle(req, res, this.endpoints.get('')!));
    router.add('*', '/mcp/:server', (req, res, ctx) => {
      const endpoint = this.endpoints.get(ctx.params.server!);
      if (!endpoint) return sendJson(res, 404, rpcError(null, -32600, `no MCP server named ${ctx.params.server} is configured`));
      return this.handle(req, res, endpoint);
    });
    router.add('GET', WELL_KNOWN, (req, res) => this.metadata(req, res, '/mcp'));
    router.add('GET', `${WELL_KNOWN}/mcp`, (req, res) => this.metadata(req, res, '/mcp'));
    router.add('GET', `${WELL_KNOWN}/mcp/:server`, (req, res, ctx) => this.metadata(req, res, `/mcp/${ctx.params.server}`));
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((s) => s.transport.close().catch(() => {})));
    this.sessions.clear();
    await Promise.all(this.handlers.map((h) => h.close().catch(() => {})));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): Promise<void> {
    const base = await beginAttempt(req, this.deps.auth);
    if (base.unauthenticated !== undefined) {
      const metadata = `${this.origin(req)}${WELL_KNOWN}${endpoint.path}`;
      return sendJson(res, 401, rpcError(null, -32001, `unauthenticated: ${base.unauthenticated}`), {
        'www-authenticate': `Bearer resource_metadata="${metadata}"`,
      });
    }
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = parseStrictJson((await readBody(req, this.deps.bodyLimit)).toString('utf8'), this.deps.limits, 'message');
      } catch (err) {
        if (err instanceof StrictJsonError) return sendJson(res, 400, rpcError(null, err.problem.kind === 'syntax' ? -32700 : -32600, err.message));
        const status = (err as { status?: number }).status ?? 400;
        return sendJson(res, status, rpcError(null, -32600, (err as Error).message));
      }
      if (!isMessageShaped(body)) return sendJson(res, 400, rpcError(idOf(body), -32600, 'not a JSON-RPC 2.0 message'));
    }
    const caller: Caller = { base };
    const authed = Object.assign(req, { auth: { token: '', clientId: base.agent.id, scopes: [], extra: { caller } } });

    const sessionId = header(req, 'mcp-session-id');
    if (sessionId) {
      const session = this.sessions.get(sessionId);
      // Another agent's session id is as unknown as a made-up one.
      if (!session || session.agent !== base.agent.id || session.endpoint !== endpoint) return sendJson(res, 404, rpcError(idOf(body), -32001, 'session not found; initialize a new one'));
      session.lastSeen = Date.now();
      if (req.method === 'POST' && isLeanToolCall(req, body, session)) return leanToolCall(this.parts.governance, session, caller, res, body);
      if (req.method === 'POST') cancelLean(session, body);
      return session.transport.handleRequest(authed, res, body);
    }
    if (req.method === 'POST' && isInitializeRequest(body)) return this.open(authed, res, body, endpoint, base.agent.id);
    if (req.method === 'POST' && !(await isLegacyRequest(await toWebRequest(req, body)))) return this.modern.get(endpoint)!(authed, res, body);
    return sendJson(res, 400, rpcError(idOf(body), -32000, 'Mcp-Session-Id header required (send initialize first, or use protocol revision 2026-07-28)'));
  }

  private async open(req: IncomingMessage & { auth: unknown }, res: ServerResponse, body: unknown, endpoint: Endpoint, agent: string): Promise<void> {
    if (this.sessions.size >= this.config.sessions.max) return sendJson(res, 503, rpcError(idOf(body), -32000, `too many MCP sessions (${this.config.sessions.max}); try again later`));
    const server = createSessionServer(endpoint, this.parts);
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { id, transport, server, agent, endpoint, lastSeen: Date.now(), running: new Map() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req as never, res, body);
  }

  private sweep(idleMs: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (now - s.lastSeen < idleMs) continue;
      this.sessions.delete(id);
      s.transport.close().catch(() => {});
    }
  }

  /** RFC 9728 protected-resource metadata for an MCP endpoint. */
  private metadata(req: IncomingMessage, res: ServerResponse, path: string): void {
    const resource = this.config.resource_url ? `${this.config.resource_url.replace(/\/mcp\/?$/, '')}${path}` : `${this.origin(req)}${path}`;
    sendJson(res, 200, {
      resource,
      authorization_servers: this.config.authorization_servers,
      bearer_methods_supported: ['header'],
      resource_name: 'OAGF Gatekeeper (MCP)',
    });
  }

  private origin(req: IncomingMessage): string {
    if (this.config.resource_url) return new URL(this.config.resource_url).origin;
    const { host, port } = this.deps.config.listen;
    return `http://${header(req, 'host') ?? `${host}:${port}`}`;
  }
}

/** `notifications/cancelled` for a call on the lean path aborts it (the SDK, which also sees it, knows no such call). */
function cancelLean(session: LeanSession, body: unknown): void {
  const m = body as { method?: unknown; params?: { requestId?: unknown; reason?: unknown } } | undefined;
  if (m?.method !== 'notifications/cancelled') return;
  const id = m.params?.requestId;
  const running = typeof id === 'string' || typeof id === 'number' ? session.running.get(id) : undefined;
  running?.abort(new Error(typeof m.params?.reason === 'string' ? m.params.reason : 'cancelled by the agent'));
}

function isMessageShaped(body: unknown): boolean {
  const one = (m: unknown) => !!m && typeof m === 'object' && !Array.isArray(m) && (m as { jsonrpc?: unknown }).jsonrpc === '2.0';
  return Array.isArray(body) ? body.length > 0 && body.every(one) : one(body);
}

function idOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

function rpcError(id: string | number | null, code: number, message: string) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}
