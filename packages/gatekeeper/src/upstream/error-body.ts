/**
 * An upstream's error response (status ≥ 400) as the agent may see it: read into memory up to a cap, scrubbed of
 * the upstream's credentials and secret patterns (scrub.ts) — the JSON's strings one by one, other bodies as
 * text — with every response header scrubbed the same way (a header that held a secret is dropped). A body past
 * the cap, or one in which a secret survives a decoded reading, is withheld whole.
 */
import type { ServerResponse } from 'node:http';
import { UpstreamError } from './errors.js';
import { passedResponseHeaders } from './headers.js';
import type { UpstreamClient, UpstreamResponse } from './client.js';

export const ERROR_BODY_LIMIT = 64 * 1024;

export interface ScrubbedError {
  status: number;
  /** The upstream's response headers that may pass, scrubbed; framing headers are left to the caller. */
  headers: Record<string, string | string[]>;
  /** The scrubbed body ('' when withheld). */
  body: string;
  /** The body parsed, when it was JSON. */
  json?: unknown;
  /** Why the body was withheld, if it was. */
  withheld?: string;
}

export async function scrubbedError(client: UpstreamClient, res: UpstreamResponse, limit = ERROR_BODY_LIMIT): Promise<ScrubbedError> {
  const { scrubber } = client;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(passedResponseHeaders(res.headers, true))) {
    const values = [value].flat();
    if (values.some((v) => scrubber.text(v) !== v || scrubber.leaks(v))) continue;
    headers[name] = value;
  }
  const raw = await readCapped(res, limit);
  if (raw === undefined) return { status: res.status, headers, body: '', withheld: `its body is over ${limit} bytes` };
  let json: unknown;
  let body: string;
  try {
    json = scrubber.value(JSON.parse(raw));
    body = JSON.stringify(json);
  } catch {
    json = undefined;
    body = scrubber.text(raw);
  }
  if (scrubber.leaks(body)) return { status: res.status, headers, body: '', withheld: "it holds the gatekeeper's credentials in an encoded form" };
  return { status: res.status, headers, body, ...(json !== undefined ? { json } : {}) };
}

/** The body as text, or undefined once it passes `limit` bytes (the rest is not read). */
async function readCapped(res: UpstreamResponse, limit: number): Promise<string | undefined> {
  try {
    return await res.text(limit);
  } catch (err) {
    if (err instanceof UpstreamError && err.kind === 'too_large') return undefined;
    throw err;
  }
}

/** Answers with a scrubbed error as it came (a withheld body becomes a JSON error saying why). */
export function writeScrubbedError(res: ServerResponse, e: ScrubbedError, extraHeaders: Record<string, string> = {}): void {
  const note = e.withheld ? JSON.stringify({ error: { type: 'upstream_error', message: `the upstream answered ${e.status}; its body is withheld: ${e.withheld}` } }) : undefined;
  const body = note ?? e.body;
  res.writeHead(e.status, { ...e.headers, ...(note ? { 'content-type': 'application/json' } : {}), ...extraHeaders, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
