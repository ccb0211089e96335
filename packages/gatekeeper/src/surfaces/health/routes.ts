/** /healthz (process is up), /readyz (policy loaded, ledger open, plug-ins ready); admin: /metrics, /ledger/* tiles. */
import { GateHttpError } from '../../http/errors.js';
import { sendJson, type Router } from '../../http/router.js';
import type { SurfaceDeps } from '../../surface.js';

export function registerHealthRoutes(router: Router, deps: SurfaceDeps): void {
  router.add('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));

  router.add('GET', '/readyz', (_req, res) => {
    const policy = deps.policy;
    const problems = [...(policy.current() ? [] : [policy.problem?.() ?? 'no policy bundle is loaded']), ...deps.problems()];
    sendJson(res, problems.length ? 503 : 200, {
      status: problems.length ? 'not ready' : 'ready',
      policy_digest: policy.current()?.digest ?? null,
      ...(policy.status ? { policy_bundle: policy.status() } : {}),
      ...(deps.postgres ? { storage: deps.postgres.status() } : {}),
      ...(problems.length ? { problems } : {}),
    });
  });

  deps.admin.add('GET', '/metrics', async (_req, res) => {
    const text = await deps.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
    res.end(text);
  });

  const ledger = deps.ledger;
  if (ledger) {
    // With witnesses, /ledger/checkpoint is the latest checkpoint they cosigned, cosignatures included.
    const tiles = (deps.witnessed ?? ledger).tiles();
    const serveTiles = deps.config.admin.public_ledger ? router.add.bind(router) : deps.admin.add.bind(deps.admin);
    serveTiles('GET', '/ledger/*', async (_req, res, ctx) => {
      const found = await tiles(`/${ctx.params['*']}`);
      if (!found) throw new GateHttpError('not_found', `no ledger resource ${ctx.params['*']}`);
      res.writeHead(found.status, found.headers);
      res.end(found.body);
    });
  }
}
