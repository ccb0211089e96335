/**
 * API proxy: `/apis/<name>/<path>` (any method) → the named business API from gatekeeper.yaml. The request is read
 * into a canonical `http.request` action (request.ts), decided and recorded by the gate, and only an allowed one
 * is carried out (forward.ts), built from the judged action.
 */
import { attemptOf, beginAttempt } from '../../http/attempt.js';
import { GateHttpError, refusalError } from '../../http/errors.js';
import type { Router } from '../../http/router.js';
import type { SurfaceDeps } from '../../surface.js';
import type { ResolvedApi } from './config.js';
import { forward } from './forward.js';
import { readApiRequest } from './request.js';

export function registerApiRoutes(router: Router, deps: SurfaceDeps, apis: Map<string, ResolvedApi>): void {
  router.add('*', '/apis/:name/*', async (req, res, ctx) => {
    const api = apis.get(ctx.params.name!);
    if (!api) throw new GateHttpError('not_found', `no API named ${ctx.params.name} is configured`);
    const request = await readApiRequest(req, api.name, ctx.params['*']!, ctx.query, deps.limits, deps.bodyLimit);
    const base = await beginAttempt(req, deps.auth);
    const result = await deps.gate.run(attemptOf(base, 'api', request.action), (judged) => forward(req, res, api, request.bytes, base.trace, judged));
    if (!result.ok) throw refusalError(result.refusal);
    if (result.value) throw result.value;
  });
}
