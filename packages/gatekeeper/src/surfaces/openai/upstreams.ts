/**
 * LLM upstreams: which upstream serves a model, and how a call is addressed to it. Each upstream is one
 * UpstreamClient (keep-alive pool, credential from the environment added there, so the agent never holds it).
 */
import type { LlmConfig, LlmUpstream } from '../../config/schema.js';
import { GateHttpError } from '../../http/errors.js';
import { UpstreamClient, type UpstreamServices } from '../../upstream/index.js';

export type Endpoint = 'chat/completions' | 'responses' | 'embeddings';

export interface Upstream {
  name: string;
  flavor: LlmUpstream['flavor'];
  client: UpstreamClient;
  /** Path and query below the base URL for an endpoint and model (Azure puts the deployment and api-version there). */
  pathFor(endpoint: Endpoint, model: string): { path: string; query: string };
}

export class ModelRouter {
  private readonly upstreams: Upstream[];
  private readonly routes: { pattern: string; prefix: boolean; upstream: Upstream }[] = [];
  private readonly fallback: Upstream | undefined;

  constructor(config: LlmConfig, env: NodeJS.ProcessEnv = process.env, services: UpstreamServices = {}) {
    this.upstreams = config.upstreams.map((u) => buildUpstream(u, env, services));
    config.upstreams.forEach((u, i) => {
      for (const pattern of u.models) {
        const prefix = pattern.endsWith('*');
        this.routes.push({ pattern: prefix ? pattern.slice(0, -1) : pattern, prefix, upstream: this.upstreams[i]! });
      }
    });
    if (config.default !== undefined) {
      this.fallback = this.upstreams.find((u) => u.name === config.default);
      if (!this.fallback) throw new Error(`llm.default names upstream "${config.default}", which is not in llm.upstreams`);
    } else {
      this.fallback = this.upstreams[config.upstreams.findIndex((u) => u.models.length === 0)];
    }
  }

  route(model: string): Upstream {
    for (const r of this.routes) {
      if (r.prefix ? model.startsWith(r.pattern) : model === r.pattern) return r.upstream;
    }
    if (this.fallback) return this.fallback;
    throw new GateHttpError('not_found', `model "${model}" is not routed to any configured upstream`);
  }

  /** Model names configured by exact name (patterns cannot be listed). */
  models(): { id: string; owned_by: string }[] {
    return this.routes.filter((r) => !r.prefix).map((r) => ({ id: r.pattern, owned_by: r.upstream.name }));
  }

  async close(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.client.close()));
  }
}

function buildUpstream(config: LlmUpstream, env: NodeJS.ProcessEnv, services: UpstreamServices): Upstream {
  const credentials: Record<string, string> = {};
  if (config.api_key) {
    const secret = env[config.api_key.env];
    if (!secret) throw new Error(`llm upstream "${config.name}": environment variable ${config.api_key.env} (its api_key) is not set`);
    if (config.flavor === 'azure') credentials['api-key'] = config.api_key.prefix + secret;
    else credentials.authorization = (config.api_key.prefix || 'Bearer ') + secret;
  }
  if (config.flavor === 'azure' && !config.api_version) {
    throw new Error(`llm upstream "${config.name}": Azure upstreams need api_version`);
  }
  const query = config.flavor === 'azure' ? `api-version=${encodeURIComponent(config.api_version!)}` : '';
  const pathFor =
    config.flavor === 'azure'
      ? (endpoint: Endpoint, model: string) =>
          endpoint === 'responses' ? { path: '/openai/responses', query } : { path: `/openai/deployments/${encodeURIComponent(model)}/${endpoint}`, query }
      : (endpoint: Endpoint) => ({ path: `/${endpoint}`, query });
  const client = new UpstreamClient({ name: config.name, baseUrl: config.base_url, timeoutMs: config.timeout_ms, credentials }, services);
  return { name: config.name, flavor: config.flavor, client, pathFor };
}
