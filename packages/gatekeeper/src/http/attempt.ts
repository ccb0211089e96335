/**
 * The HTTP edge of every surface: who is calling and in which context (trace, session, the approval it retries
 * with). The surface turns this and its own request into an attempt for `gate.run`.
 */
import type { IncomingMessage } from 'node:http';
import type { Authenticator } from '../auth/agents.js';
import type { ActionAttempt, RequestNote, Surface } from '../gate/index.js';
import { requestNote } from './request-log.js';
import type { AgentIdentity, OagfAction, OagfContext } from '../spec/index.js';
import { traceFrom, type TraceContext } from './trace.js';

export interface AttemptBase {
  agent: AgentIdentity;
  unauthenticated?: string;
  context: OagfContext;
  approval?: string;
  trace: TraceContext;
  /** The request log's entry for this request, when the log is on. */
  note?: RequestNote;
}

export async function beginAttempt(req: IncomingMessage, auth: Authenticator): Promise<AttemptBase> {
  const trace = traceFrom(req.headers);
  const session = header(req, 'oagf-session') ?? header(req, 'x-session-id');
  const context: OagfContext = { trace_id: trace.traceId, ...(session ? { session_id: session } : {}) };
  const approval = header(req, 'oagf-approval');
  const who = await auth.authenticate(req.headers);
  const note = requestNote(req);
  const base = { context, trace, ...(approval ? { approval } : {}), ...(note ? { note } : {}) };
  if (who.ok) return { ...base, agent: who.agent };
  return { ...base, agent: { id: who.claimed ?? 'unknown', labels: {}, delegation: [] }, unauthenticated: who.reason };
}

export function attemptOf(base: AttemptBase, surface: Surface, action: OagfAction, extra: Pick<ActionAttempt, 'trace'> & { context?: OagfContext } = {}): ActionAttempt {
  return {
    agent: base.agent,
    action,
    context: extra.context ?? base.context,
    surface,
    ...(base.unauthenticated !== undefined ? { unauthenticated: base.unauthenticated } : {}),
    ...(base.approval ? { approval: base.approval } : {}),
    ...(extra.trace !== undefined ? { trace: extra.trace } : {}),
    ...(base.note ? { requestNote: base.note } : {}),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}
