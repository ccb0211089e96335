/**
 * The OpenAI-compatible surface: OpenAI's paths and Azure OpenAI's deployment paths, with OpenAI-style
 * error bodies so agents' SDKs report the gatekeeper's reasons as ordinary API errors.
 */
import { GateHttpError } from '../../http/errors.js';
import { sendJson, type Handler, type Router } from '../../http/router.js';
import { llmSurfaceDeps } from '../../llm/exchange.js';
import { ModelRouter, protocolOf, type Endpoint } from '../../llm/upstreams.js';
import type { SurfaceDeps } from '../../surface.js';
import { openAIErrorBody } from './errors.js';
import { handleLlmCall } from './llm-call.js';
import { ModelCatalog } from './models.js';

export interface OpenAISurface {
  models: ModelRouter;
  /** Closes the upstream connection pools. */
  close(): Promise<void>;
}

/** Path prefixes whose every answer, unmatched routes' 404s included, is an OpenAI-style error. */
export const OPENAI_PREFIXES = ['/v1/', '/openai/'];

/** Registers the surface when `llm` has an OpenAI-compatible upstream; returns undefined (no routes) otherwise. */
export function registerOpenAIRoutes(router: Router, deps: SurfaceDeps, env: NodeJS.ProcessEnv = process.env): OpenAISurface | undefined {
  const llm = deps.config.llm;
  if (!llm || !llm.upstreams.some((u) => protocolOf(u.flavor) === 'openai')) return undefined;
  const models = new ModelRouter(llm, 'openai', env, deps);
  const call = llmSurfaceDeps(deps, llm, models);
  const options = { errorFormat: openAIErrorBody };
  for (const prefix of OPENAI_PREFIXES) router.errorFormatUnder(prefix, openAIErrorBody);
  const endpoints: Endpoint[] = ['chat/completions', 'responses', 'embeddings'];
  // OpenAI's paths, and the same under Azure OpenAI's v1 API prefix (model in the body, `api-key` header).
  for (const prefix of ['/v1', '/openai/v1']) {
    for (const endpoint of endpoints) {
      router.add('POST', `${prefix}/${endpoint}`, (req, res) => handleLlmCall(call, { endpoint }, req, res), options);
    }
  }
  for (const endpoint of ['chat/completions', 'embeddings'] as const) {
    // The router has decoded `:deployment` once; it is used as is.
    router.add('POST', `/openai/deployments/:deployment/${endpoint}`, (req, res, ctx) => handleLlmCall(call, { endpoint, deployment: ctx.params.deployment! }, req, res), options);
  }
  const catalog = new ModelCatalog(models, llm.models_cache_s * 1000, deps.logger);
  const listModels: Handler = async (req, res) => {
    const who = await deps.auth.authenticate(req.headers);
    if (!who.ok) throw new GateHttpError('unauthenticated', who.reason);
    sendJson(res, 200, { object: 'list', data: await catalog.list() });
  };
  router.add('GET', '/v1/models', listModels, options);
  router.add('GET', '/openai/v1/models', listModels, options);
  return { models, close: () => models.close() };
}
