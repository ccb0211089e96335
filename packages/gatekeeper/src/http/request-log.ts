/**
 * One structured log line per request: method, path (no query: it may carry tokens), status, latency, and what the
 * gate decided for it — agent, surface, action kind, outcome, the rule that produced it, record id and ledger index
 * (the first decision; `decisions` counts them, e.g. a chat completion and its tool calls). Never a header, a body
 * or a secret: the path is passed through the redactor too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GateOutcome, RequestNote } from '../gate/index.js';
import type { Logger } from '../logger.js';
import type { Redactor } from '../redact.js';

/**
 * Each logged request's note, found again from the request (beginAttempt puts it in every attempt the request makes).
 * Not an AsyncLocalStorage: one in use turns on promise hooks for every promise of every request, ~8% of the CPU
 * of a gated chat completion.
 */
const notes = new WeakMap<IncomingMessage, RequestNote>();

export function requestNote(req: IncomingMessage): RequestNote | undefined {
  return notes.get(req);
}

/** Called by the gate's observer for every decision: attributes it to the request that made it. */
export function noteDecision(outcome: GateOutcome): void {
  const facts = outcome.attempt.requestNote;
  if (!facts) return;
  facts.decisions++;
  facts.first ??= outcome;
}

/** Wraps a request listener so that every request is logged once, when its response is done. */
export function withRequestLog(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  logger: Logger,
  redactor: Redactor,
): (req: IncomingMessage, res: ServerResponse) => void {
  // Below warn nothing is ever written: no wrapper, no per-request context at all.
  if (!logger.isLevelEnabled('warn')) return listener;
  const info = logger.isLevelEnabled('info');
  return (req, res) => {
    const facts: RequestNote = { decisions: 0 };
    notes.set(req, facts);
    const started = performance.now();
    res.once('close', () => {
      const status = res.headersSent ? res.statusCode : 0;
      // At level warn only failed and aborted requests are logged: the others build no line.
      if (!info && status < 500 && status !== 0) return;
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const line: Record<string, unknown> = {
        method: req.method,
        path: redactor.text(q === -1 ? url : url.slice(0, q)),
        status,
        ms: Math.round((performance.now() - started) * 100) / 100,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      const o = facts.first;
      if (o) {
        Object.assign(line, {
          agent: o.input.agent.id,
          surface: o.input.context.surface,
          kind: o.input.action.kind,
          decision: o.decision.outcome,
          ...(o.decision.explanation[0] ? { rule: o.decision.explanation[0].rule } : {}),
          ...(o.fault ? { fault: o.fault.code } : {}),
          record: o.recordId,
          ...(o.index !== undefined ? { index: o.index } : {}),
          decisions: facts.decisions,
        });
      }
      if (status >= 500 || status === 0) logger.warn(line, 'request');
      else logger.info(line, 'request');
    });
    listener(req, res);
  };
}
