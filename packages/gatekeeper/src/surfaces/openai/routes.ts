/**
 * The OpenAI-compatible surface: OpenAI's paths and Azure OpenAI's deployment paths, with OpenAI-style
 * error bodies so agents' SDKs report the gatekeeper's reasons as ordinary API errors.
 */
import { GateHttpError } from '../../http/errors.js';
import { sendJson, type Handler, type Router } from '../../http/router.js';
import type { SurfaceDeps } from '../../surface.js';
import { openAIErrorBody } from './errors.js';
import { handleLlmCall, type LlmCallDeps } from './llm-call.js';
import { ModelRouter, type Endpoint } from './upstreams.js';

export interface OpenAISurface {
  models: ModelRouter;
  /** Closes the upstream connection pools. */
  close(): Promise<void>;
}

/** Registers the surface when `llm` is configured; returns undefined (no routes) otherwise. */
export function registerOpenAIRoutes(router: Router, deps: SurfaceDeps, env: NodeJS.ProcessEnv = process.env): OpenAISurface | undefined {
  const llm = deps.config.llm;
  if (!llm) return undefined;
  const models = new ModelRouter(llm, env, deps);
  const call: LlmCallDeps = { surface: deps, models, toolCalls: { onDeny: llm.denied_tool_call, unknownItems: llm.unknown_items }, limits: deps.limits, bodyLimit: deps.bodyLimit };
  const options = { errorFormat: openAIErrorBody };
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
  const listModels: Handler = async (req, res) => {
    const who = await deps.auth.authenticate(req.headers);
    if (!who.ok) throw new GateHttpError('unauthenticated', who.reason);
    sendJson(res, 200, { object: 'list', data: models.models().map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owned_by })) });
  };
  router.add('GET', '/v1/models', listModels, options);
  router.add('GET', '/openai/v1/models', listModels, options);
  return { models, close: () => models.close() };
}
