/**
 * Carries out an allowed `http.request`: the upstream call is built from the judged action alone — its method,
 * canonical path (joined under the API's base path), query and body bytes — plus the allowlisted agent headers,
 * the API's credentials (added by the upstream client) and the trace. `redact` obligations are applied to the
 * JSON response; an obligation that cannot be met blocks the response. A `label`led response is handed to the
 * lifecycle (its head) so the session can recognise its text later.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import type { Executed, ExecutionContext } from '../../gate/index.js';
import { encodePath, encodeQuery } from '../../http/canonical.js';
import { GateHttpError } from '../../http/errors.js';
import type { TraceContext } from '../../http/trace.js';
import { forwardedRequestHeaders, passedResponseHeaders, scrubbedError, upstreamErrorOf, writeScrubbedError } from '../../upstream/index.js';
import type { ResolvedApi } from './config.js';
import { labelsOf, redactJson, redactions } from '../../obligations.js';
import { MAX_INDEXED } from '../../sessions/fingerprint.js';

/** What the handler still has to do once the lifecycle is over: nothing, or answer with this error. */
export type Forwarded = GateHttpError | undefined;

export async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  api: ResolvedApi,
  body: Buffer,
  trace: TraceContext,
  judged: ExecutionContext,
): Promise<Executed<Forwarded>> {
  const { target, query } = judged.action;
  const headers: Record<string, string> = {
    ...forwardedRequestHeaders(req.headers, api.forwardHeaders),
    traceparent: trace.traceparent,
    'oagf-decision-id': judged.recordId,
    ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
  };
  let upstream;
  try {
    upstream = await api.upstream.send({
      method: target.method as Dispatcher.HttpMethod,
      path: encodePath(target.path!),
      query: encodeQuery(query),
      headers,
      body: body.length ? body : null,
    });
  } catch (err) {
    throw upstreamErrorOf(api.upstream, err).toHttp({ record_id: judged.recordId });
  }
  // The upstream has acted once it answered 2xx/3xx, whether or not the agent reads the whole response.
  const settlement = upstream.status < 400 ? { settle: {} } : { release: `upstream status ${upstream.status}` };
  const facts = { status: upstream.status };
  const fields = redactions(judged.decision.obligations);
  const labelled = labelsOf(judged.decision.obligations, '').length > 0;
  const decisionHeader = { 'oagf-decision-id': judged.recordId };
  if (upstream.status >= 400) {
    // Error bodies are buffered (capped) and scrubbed of the API's credentials and secret patterns.
    writeScrubbedError(res, await scrubbedError(api.upstream, upstream), decisionHeader);
    return { value: undefined, settlement, facts };
  }
  if (fields.length) {
    const out = redactJson(await upstream.text(), fields);
    if (out === undefined) {
      const error = new GateHttpError('gatekeeper_fault', `cannot apply the policy's redact obligation: API ${api.name} did not return JSON`, { record_id: judged.recordId });
      return { value: error, settlement, facts };
    }
    res.writeHead(upstream.status, { ...passedResponseHeaders(upstream.headers, true), ...decisionHeader, 'content-length': Buffer.byteLength(out) });
    res.end(out);
    return { value: undefined, settlement, facts, ...(labelled ? { content: out } : {}) };
  }
  res.writeHead(upstream.status, { ...passedResponseHeaders(upstream.headers, false), ...decisionHeader });
  // A labelled result is copied (its head) on its way to the agent, for the session's fingerprints.
  const copy = labelled ? new HeadCopy(MAX_INDEXED * 4) : undefined;
  try {
    await (copy ? pipeline(upstream.body, copy, res) : pipeline(upstream.body, res));
  } catch {
    // The agent went away or the upstream cut the body: the call itself happened either way.
  }
  return { value: undefined, settlement, facts, ...(copy ? { content: copy.text() } : {}) };
}

/** Passes every byte on and keeps the first `limit` of them. */
class HeadCopy extends Transform {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.kept < this.limit) {
      const part = chunk.subarray(0, this.limit - this.kept);
      this.chunks.push(part);
      this.kept += part.length;
    }
    done(null, chunk);
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
