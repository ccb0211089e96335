/**
 * A tools/call to an upstream over Streamable HTTP as one POST through the gatekeeper's `UpstreamClient`, on the
 * session the SDK `Client` opened (its session id and negotiated protocol version).
 *
 * Measured (bench/mcp): through the SDK client's transport each call became a fetch `Request`, a web `Response`
 * over a Node stream and an SSE parse through web streams, which cost about as much CPU as the decision. Here the
 * answer (JSON, or an SSE stream) is read from the undici body directly. What the server sends besides our answer
 * (log messages, list changes, its own requests) is handed to the SDK client, which handles it as before. Calls
 * that need more of the SDK (progress, a tool with an output schema to check) go through the SDK client.
 */
import { StringDecoder } from 'node:string_decoder';
import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode, isCallToolResult, type Client, type StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { createParser } from 'eventsource-parser';
import { UpstreamError, type UpstreamClient, type UpstreamResponse } from '../../upstream/index.js';

export interface HttpSession {
  http: UpstreamClient;
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** The server no longer knows the session (404): reconnect. */
  lost(why: string): void;
}

export interface CallOptions {
  signal: AbortSignal;
  timeout: number;
}

interface RpcMessage {
  jsonrpc: '2.0';
  id?: string | number;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

let nextId = 0;

export async function postToolCall(s: HttpSession, params: { name: string; arguments: Record<string, unknown> }, options: CallOptions): Promise<CallToolResult> {
  // Ids of their own kind: the SDK client numbers its requests on the same session.
  const id = `oagf-${++nextId}`;
  if (options.signal.aborted) throw options.signal.reason;
  const abort = new AbortController();
  const stop = (reason: unknown) => {
    if (abort.signal.aborted) return;
    abort.abort(reason);
    void s.client.notification({ method: 'notifications/cancelled', params: { requestId: id, reason: String(reason instanceof Error ? reason.message : reason) } }).catch(() => {});
  };
  const timer = setTimeout(() => stop(new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out', { timeout: options.timeout })), options.timeout);
  const cancelled = () => stop(options.signal.reason);
  options.signal.addEventListener('abort', cancelled, { once: true });
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (s.transport.sessionId) headers['mcp-session-id'] = s.transport.sessionId;
    if (s.transport.protocolVersion) headers['mcp-protocol-version'] = s.transport.protocolVersion;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
    let res: UpstreamResponse;
    try {
      res = await s.http.send({ method: 'POST', path: '/', headers, body, signal: abort.signal });
    } catch (err) {
      throw abort.signal.aborted ? abort.signal.reason : err;
    }
    const answer = await readAnswer(s, res, id, abort.signal);
    if (answer.error) throw ProtocolError.fromError(answer.error.code, answer.error.message, answer.error.data);
    if (!isCallToolResult(answer.result)) throw new ProtocolError(ProtocolErrorCode.InternalError, `MCP server "${s.http.name}" answered tools/call with something that is not a tool result`);
    return answer.result;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', cancelled);
  }
}

/** Our JSON-RPC answer from a JSON body or from the SSE stream; anything else on the stream goes to the SDK client. */
async function readAnswer(s: HttpSession, res: UpstreamResponse, id: string, signal: AbortSignal): Promise<RpcMessage> {
  const type = String(res.headers['content-type'] ?? '');
  if (res.status === 404 && s.transport.sessionId) {
    res.body.resume();
    s.lost('the server no longer knows the session');
    throw new Error(`MCP server "${s.http.name}" ended the session; reconnecting`);
  }
  if (res.status !== 200) {
    const text = await res.text(4096).catch(() => '');
    throw new Error(`Error POSTing to endpoint (HTTP ${res.status}): ${s.http.scrubber.text(text)}`);
  }
  if (type.startsWith('application/json')) {
    const message = JSON.parse(await res.text()) as RpcMessage;
    if (message?.id !== id) throw new Error(`MCP server "${s.http.name}" answered another request`);
    return message;
  }
  if (!type.startsWith('text/event-stream')) {
    res.body.resume();
    throw new Error(`MCP server "${s.http.name}" answered with unexpected content type ${type}`);
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const parser = createParser({
      onEvent: (event) => {
        if (!event.data || (event.event && event.event !== 'message')) return;
        let message: RpcMessage;
        try {
          message = JSON.parse(event.data) as RpcMessage;
        } catch {
          return;
        }
        if (!answered && message.id === id && message.method === undefined) {
          answered = true;
          resolve(message);
        } else s.transport.onmessage?.(message as never);
      },
    });
    const body = res.body;
    const utf8 = new StringDecoder('utf8');
    // Until the answer, the stream is held to the response size limit: the parser buffers an event until it ends.
    let size = 0;
    // After our answer the rest of the stream is still read (and passed on), so the connection stays reusable.
    body.on('data', (chunk: Buffer) => {
      if (!answered && (size += chunk.length) > s.http.maxResponseBytes) {
        answered = true;
        body.destroy();
        return reject(new UpstreamError('too_large', `upstream "${s.http.name}" answered with more than ${s.http.maxResponseBytes} bytes`));
      }
      parser.feed(utf8.write(chunk));
    });
    body.on('error', (err) => !answered && reject(signal.aborted ? signal.reason : err));
    body.on('close', () => !answered && reject(signal.aborted ? signal.reason : new Error(`MCP server "${s.http.name}" closed the stream before answering`)));
  });
}
