/**
 * The Anthropic Messages surface (`POST /v1/messages`): registered when `llm.upstreams` has an upstream of flavor
 * `anthropic`. Agents use Anthropic's SDKs with the gatekeeper's URL as base URL and their gatekeeper key as API key.
 */
import { GateHttpError } from '../../http/errors.js';
import { llmSurfaceDeps } from '../../llm/exchange.js';
import { ModelRouter } from '../../llm/upstreams.js';
import type { SurfaceModule } from '../../surface.js';
import { handleMessages } from './call.js';
import { anthropicErrorBody } from './errors.js';

export const anthropicSurface: SurfaceModule = {
  name: 'anthropic',
  register(router, deps) {
    const llm = deps.config.llm;
    if (!llm || !llm.upstreams.some((u) => u.flavor === 'anthropic')) return undefined;
    const models = new ModelRouter(llm, 'anthropic', deps.env, deps);
    const call = llmSurfaceDeps(deps, llm, models);
    const options = { errorFormat: anthropicErrorBody };
    router.errorFormatUnder('/v1/messages', anthropicErrorBody);
    router.add('POST', '/v1/messages', (req, res) => handleMessages(call, req, res), options);
    router.add('POST', '/v1/messages/count_tokens', () => {
      throw new GateHttpError('not_found', 'token counting is not offered through the gatekeeper (it would send the conversation upstream undecided)');
    }, options);
    return { close: () => models.close() };
  },
};

export { anthropicErrorBody } from './errors.js';
