/**
 * The fetch the MCP SDK's Streamable HTTP client transport calls, carried by the gatekeeper's one way out
 * (`UpstreamClient`): the same undici pool, timeouts and error kinds as every other upstream, and the server's
 * credentials added there from the environment. The agent never holds them: its own request headers are not
 * passed on, only what the SDK itself sets (content type, accept, Mcp-Session-Id, MCP-Protocol-Version).
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UpstreamClient } from '../../upstream/index.js';

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export function upstreamFetch(client: UpstreamClient): FetchLike {
  return async (url, init = {}) => {
    const target = new URL(String(url));
    // The SDK only ever calls the configured endpoint; anything else would leave the configured origin.
    if (target.origin !== client.origin || !target.pathname.startsWith(client.basePath)) {
      throw new Error(`MCP server "${client.name}" may only be reached at ${client.origin}${client.basePath}`);
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const res = await client.send({
      method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      path: target.pathname.slice(client.basePath.length) || '/',
      query: target.search.slice(1),
      headers,
      body: typeof init.body === 'string' || init.body instanceof Uint8Array ? init.body : null,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const out = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) out.append(key, v);
    }
    const empty = res.status === 204 || res.status === 304 || (init.method ?? 'GET').toUpperCase() === 'HEAD';
    if (empty) res.body.resume();
    return new Response(empty ? null : (Readable.toWeb(res.body) as ReadableStream), { status: res.status, headers: out });
  };
}
