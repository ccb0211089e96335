/**
 * `POST /v1/sandbox/executions`: agent-written code, decided as a `sandbox.exec` action before anything runs, then
 * run in the sandbox (packages/sandbox) and recorded with its outcome. A refusal is answered like on the decision
 * API's siblings: 403 denied, 202 pending approval (retry with OAGF-Approval), 401, 503.
 */
import { SandboxError } from '@oagf/sandbox';
import { attemptOf, beginAttempt } from '../../http/attempt.js';
import { GateHttpError, refusalError } from '../../http/errors.js';
import { readJson, type Router } from '../../http/router.js';
import type { SurfaceDeps } from '../../surface.js';
import { ExecutionBody } from './request.js';
import { runOverHttp } from './run.js';
import type { SandboxService } from './service.js';

export function registerSandboxRoutes(router: Router, deps: SurfaceDeps, service: SandboxService): void {
  router.add('POST', '/v1/sandbox/executions', async (req, res) => {
    const body = await readJson(req, ExecutionBody, deps.limits, deps.bodyLimit);
    let request;
    try {
      request = service.read(body);
    } catch (err) {
      if (err instanceof SandboxError) throw new GateHttpError('bad_request', `invalid execution: ${err.message}`);
      throw err;
    }
    const base = await beginAttempt(req, deps.auth);
    const stream = String(req.headers.accept ?? '').includes('text/event-stream');
    let result;
    try {
      result = await deps.gate.run(attemptOf(base, 'sandbox', request.action), (judged) => runOverHttp(service, request, judged, res, stream));
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      const kind = err.code === 'queue_full' ? 'too_many_requests' : err.code === 'invalid_request' ? 'bad_request' : 'gatekeeper_fault';
      throw new GateHttpError(kind, `the sandbox could not run it: ${err.message}`, undefined, undefined, err.code);
    }
    if (!result.ok) throw refusalError(result.refusal);
  });
}
