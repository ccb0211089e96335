/**
 * The hot request of a 2025 session, `tools/call`, answered without the SDK's Streamable HTTP transport.
 *
 * Measured (bench/mcp): through the SDK's Node transport every call is converted to a web `Request`, dispatched,
 * and answered as an SSE stream (headers flushed, then the event, then the end: three writes the agent's client is
 * woken for), which cost more CPU than the decision and the ledger together. Here the call is decided and carried
 * out by the same governed code (agentToolCall), and answered as one JSON body in one write, which Streamable HTTP
 * allows for any POST. Only when the call has to say something while it runs (progress the agent asked for, or why
 * it waits for a reviewer) does the answer become an SSE stream, as the SDK's would be; elicitation goes through the
 * session's SDK server as before. Everything else (initialize, other methods, notifications, GET streams, DELETE,
 * unusual headers) stays with the SDK: `take` says no and the caller hands the request on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/server';
import type { Endpoint } from './endpoint.js';
import type { Caller, Governance } from './governed.js';
import { agentToolCall, type CallChannel, type ToolCallParams } from './session.js';

type Id = string | number;

interface ToolCallMessage {
  jsonrpc: '2.0';
  id: Id;
  method: 'tools/call';
  params: ToolCallParams;
}

/** What the lean path needs of a session. */
export interface LeanSession {
  id: string;
  server: Server;
  endpoint: Endpoint;
  /** tools/call requests running on the lean path, by JSON-RPC id, so `notifications/cancelled` reaches them. */
  running: Map<Id, AbortController>;
}

/** A single tools/call the lean path serves as is; anything unusual is the SDK's to answer (or refuse). */
export function isLeanToolCall(req: IncomingMessage, body: unknown, session: LeanSession): body is ToolCallMessage {
  const m = body as Partial<ToolCallMessage> | undefined;
  if (!m || typeof m !== 'object' || Array.isArray(m) || m.method !== 'tools/call') return false;
  if (typeof m.id !== 'string' && typeof m.id !== 'number') return false;
  const p = m.params;
  if (!p || typeof p !== 'object' || Array.isArray(p) || typeof p.name !== 'string') return false;
  if (p.arguments !== undefined && (typeof p.arguments !== 'object' || p.arguments === null || Array.isArray(p.arguments))) return false;
  if (p._meta !== undefined && (typeof p._meta !== 'object' || p._meta === null || Array.isArray(p._meta))) return false;
  const token = p._meta?.progressToken;
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'number') return false;
  if (session.running.has(m.id)) return false;
  // The SDK's checks for a session POST: the accepted types, JSON content, a protocol version it negotiated.
  const accept = req.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return false;
  const version = req.headers['mcp-protocol-version'];
  return version === undefined || version === session.server.getNegotiatedProtocolVersion();
}

export async function leanToolCall(g: Governance, session: LeanSession, caller: Caller, res: ServerResponse, message: ToolCallMessage): Promise<void> {
  const { server, id: sessionId } = session;
  const abort = new AbortController();
  session.running.set(message.id, abort);
  // An agent that hung up cancels its call, as a `notifications/cancelled` would.
  const hungUp = () => {
    if (!res.writableFinished) abort.abort(new Error('the agent closed the connection'));
  };
  res.once('close', hungUp);
  const answer = new Answer(res, sessionId);
  const version = server.getNegotiatedProtocolVersion();
  const client = server.getClientVersion();
  const channel: CallChannel = {
    notify: (method, params) => answer.event({ jsonrpc: '2.0', method, params }),
    log: (text) => {
      if (!ignoresNotices(server, sessionId)) answer.event({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'notice', data: text, logger: 'oagf-gatekeeper' } });
    },
    ...(server.getClientCapabilities()?.elicitation ? { elicit: (text: string) => void server.elicitInput({ message: text, requestedSchema: { type: 'object', properties: {} } }).catch(() => {}) } : {}),
  };
  try {
    const base = { caller, endpoint: session.endpoint, session: sessionId, ...(version ? { protocolVersion: version } : {}), ...(client ? { client } : {}), signal: abort.signal };
    const result = await agentToolCall(g, base, message.params, channel);
    // A cancelled request gets no answer (as the SDK does).
    if (!abort.signal.aborted) answer.end({ jsonrpc: '2.0', id: message.id, result });
  } catch (err) {
    if (!abort.signal.aborted) answer.end({ jsonrpc: '2.0', id: message.id, error: rpcError(err) });
  } finally {
    session.running.delete(message.id);
    res.off('close', hungUp);
    if (!res.writableEnded) res.end();
  }
}

/**
 * Whether the agent set its session's logging level above `notice` (logging/setLevel, which the SDK server keeps;
 * its check is not public API, hence the narrow cast — a version without it logs, as the default level does).
 */
function ignoresNotices(server: Server, sessionId: string): boolean {
  const check = (server as unknown as { isMessageIgnored?: (level: string, session: string) => boolean }).isMessageIgnored;
  return check?.call(server, 'notice', sessionId) ?? false;
}

/** A JSON-RPC error as the SDK's dispatch builds it from what the handler threw. */
function rpcError(err: unknown): { code: number; message: string; data?: unknown } {
  const e = err as { code?: unknown; message?: string; data?: unknown };
  const code = Number.isSafeInteger(e?.code) ? (e.code as number) : -32603;
  return { code, message: e?.message ?? 'Internal error', ...(e?.data !== undefined ? { data: e.data } : {}) };
}

/** One JSON body, unless something had to be said before the result: then an SSE stream of messages. */
class Answer {
  private streaming = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly sessionId: string,
  ) {}

  event(message: unknown): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.streaming) {
      this.streaming = true;
      this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'mcp-session-id': this.sessionId });
    }
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  end(message: unknown): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.streaming) return void this.res.end(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    const text = JSON.stringify(message);
    this.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'mcp-session-id': this.sessionId });
    this.res.end(text);
  }
}
