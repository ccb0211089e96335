/**
 * Reads an agent's request to `/apis/<name>/<path>` into the `http.request` action, in canonical form: the path
 * decoded and dot-segment free, the query parsed, a JSON body parsed strictly. The upstream call is later built
 * from this action alone (forward.ts), so anything without one unambiguous reading is refused here, with a 400
 * naming the problem.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CanonicalError, canonicalPath, parseQuery } from '../../http/canonical.js';
import { GateHttpError } from '../../http/errors.js';
import { readBody } from '../../http/router.js';
import { parseStrictJson, StrictJsonError, type JsonLimits } from '../../json/strict.js';
import type { OagfAction } from '../../spec/index.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Headers that ask the upstream to carry out another method than the one the policy would judge. */
const METHOD_OVERRIDES = ['x-http-method-override', 'x-http-method', 'x-method-override'];

export interface ApiRequest {
  action: OagfAction;
  /** The body exactly as judged: the JSON text the policy's `body` was parsed from, or the opaque bytes it saw the digest of. */
  bytes: Buffer;
}

export async function readApiRequest(req: IncomingMessage, api: string, rest: string, query: string, limits: JsonLimits, bodyLimit: number): Promise<ApiRequest> {
  const method = (req.method ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) throw new GateHttpError('method_not_allowed', `method ${method} is not proxied (only ${[...METHODS].join(', ')})`);
  for (const h of METHOD_OVERRIDES) {
    if (req.headers[h] !== undefined) throw new GateHttpError('bad_request', `header ${h} is refused: the policy judges the request's own method (${method})`);
  }
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') throw new GateHttpError('unsupported_media_type', `request bodies with content-encoding ${encoding} are refused: the policy must read the body`);

  let path: string;
  try {
    path = canonicalPath(`/${rest}`);
  } catch (err) {
    if (err instanceof CanonicalError) throw new GateHttpError('bad_request', `the request path has no safe canonical form: ${err.message}`);
    throw err;
  }
  const bytes = await readBody(req, bodyLimit);
  if (bytes.length > 0 && (method === 'GET' || method === 'HEAD')) throw new GateHttpError('bad_request', `a ${method} request must not carry a body`);
  const parsedQuery = parseQuery(query);
  const action: OagfAction = { kind: 'http.request', target: { api, method, path }, ...(parsedQuery ? { query: parsedQuery } : {}) };
  if (bytes.length === 0) return { action, bytes };

  const type = String(req.headers['content-type'] ?? '');
  if (isJson(type)) {
    try {
      action.body = parseStrictJson(bytes.toString('utf8'), limits, 'body');
    } catch (err) {
      if (!(err instanceof StrictJsonError)) throw err;
      throw new GateHttpError(err.problem.kind === 'limit' ? 'payload_too_large' : 'bad_request', err.message);
    }
  } else {
    // The policy cannot read it; it sees what it is, how big, and its digest (the standard library denies it by default).
    action.content = { type: type || 'application/octet-stream', bytes: bytes.length, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
  }
  return { action, bytes };
}

function isJson(type: string): boolean {
  const mime = type.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime.endsWith('+json');
}
