/**
 * Which headers cross the gatekeeper, in one place for every surface. Requests: only an allowlist of the agent's
 * headers (credentials, forwarding and method-override headers never; the gatekeeper sets its own). Responses:
 * everything but hop-by-hop headers, cookies (the agent's session is with the gatekeeper, not the upstream) and
 * framing that no longer holds once the gatekeeper rewrote the body.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 connection-specific headers, plus the proxy ones. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The agent's headers an upstream gets unless its configuration names others. */
export const DEFAULT_REQUEST_HEADERS: readonly string[] = [
  'accept',
  'accept-language',
  'content-type',
  'content-language',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'idempotency-key',
  'user-agent',
  'x-request-id',
];

/**
 * Never taken from the agent, even when configured: credentials (the gatekeeper adds the upstream's own),
 * forwarding headers (only the gatekeeper may state where a request came from), headers that would make the
 * upstream carry out something other than what the policy judged (method overrides), and framing.
 */
const NEVER_FROM_AGENT = /^(authorization|cookie|x-api-key|api-key|host|content-length|content-encoding|forwarded|x-forwarded-.*|x-real-ip|x-original-.*|x-rewrite-url|x-http-method-override|x-http-method|x-method-override|traceparent|tracestate|oagf-.*|proxy-.*)$/;

export function isForwardable(name: string): boolean {
  return !HOP_BY_HOP.has(name) && !NEVER_FROM_AGENT.test(name);
}

/** The allowlist an upstream uses, refusing at start a configured name that may never be forwarded. */
export function requestHeaderAllowlist(configured: readonly string[] | undefined, where: string): ReadonlySet<string> {
  const names = (configured ?? DEFAULT_REQUEST_HEADERS).map((h) => h.toLowerCase());
  for (const name of names) {
    if (!isForwardable(name)) throw new Error(`${where}: header "${name}" is never taken from the agent (the gatekeeper sets it, or it would change what was judged)`);
  }
  return new Set(names);
}

/** The agent's headers that the upstream may see. */
export function forwardedRequestHeaders(incoming: IncomingHttpHeaders, allow: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of allow) {
    const value = incoming[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

const DROPPED_RESPONSE = new Set(['set-cookie', 'set-cookie2', 'date', 'server']);
const FRAMING = new Set(['content-length', 'content-encoding', 'content-md5', 'digest', 'etag']);

/**
 * The upstream's response headers the agent gets. `rewritten`: the gatekeeper changed the body (gated tool calls,
 * redaction), so its length, encoding and validators no longer describe it.
 */
export function passedResponseHeaders(headers: IncomingHttpHeaders, rewritten: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || DROPPED_RESPONSE.has(name)) continue;
    if (name === 'content-length' || (rewritten && FRAMING.has(name))) continue;
    out[name] = value;
  }
  return out;
}
