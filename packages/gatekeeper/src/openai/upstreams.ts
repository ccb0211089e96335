/**
 * LLM upstreams: which upstream serves a model, and how a call is addressed to it. One keep-alive undici
 * pool per upstream; the upstream credential comes from the environment at start and is added here, so
 * the agent never holds it.
 */
import { Pool } from 'undici';
import type { LlmConfig, LlmUpstream } from '../config/schema.js';
import { GateHttpError } from '../http/errors.js';

export type Endpoint = 'chat/completions' | 'responses' | 'embeddings';

export interface Upstream {
  name: string;
  flavor: LlmUpstream['flavor'];
  pool: Pool;
  timeoutMs: number;
  /** Request path for an endpoint and model (Azure puts the deployment and api-version in the URL). */
  pathFor(endpoint: Endpoint, model: string): string;
  /** Credential headers for this upstream. */
  authHeaders: Record<string, string>;
}

export class ModelRouter {
  private readonly upstreams: Upstream[];
  private readonly routes: { pattern: string; prefix: boolean; upstream: Upstream }[] = [];
  private readonly fallback: Upstream | undefined;

  constructor(config: LlmConfig, env: NodeJS.ProcessEnv = process.env) {
    this.upstreams = config.upstreams.map((u) => buildUpstream(u, env));
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
    // Shutdown: the server has stopped taking calls; calls still streaming are cut rather than awaited.
    await Promise.all(this.upstreams.map((u) => u.pool.destroy()));
  }
}

function buildUpstream(config: LlmUpstream, env: NodeJS.ProcessEnv): Upstream {
  const url = new URL(config.base_url);
  const basePath = url.pathname.replace(/\/+$/, '');
  const authHeaders: Record<string, string> = {};
  if (config.api_key) {
    const secret = env[config.api_key.env];
    if (!secret) throw new Error(`llm upstream "${config.name}": environment variable ${config.api_key.env} (its api_key) is not set`);
    if (config.flavor === 'azure') authHeaders['api-key'] = config.api_key.prefix + secret;
    else authHeaders.authorization = (config.api_key.prefix || 'Bearer ') + secret;
  }
  if (config.flavor === 'azure' && !config.api_version) {
    throw new Error(`llm upstream "${config.name}": Azure upstreams need api_version`);
  }
  const version = encodeURIComponent(config.api_version ?? '');
  const pathFor =
    config.flavor === 'azure'
      ? (endpoint: Endpoint, model: string) =>
          endpoint === 'responses'
            ? `${basePath}/openai/responses?api-version=${version}`
            : `${basePath}/openai/deployments/${encodeURIComponent(model)}/${endpoint}?api-version=${version}`
      : (endpoint: Endpoint) => `${basePath}/${endpoint}`;
  return {
    name: config.name,
    flavor: config.flavor,
    pool: new Pool(url.origin, { connections: 256, keepAliveTimeout: 30_000, headersTimeout: config.timeout_ms, bodyTimeout: config.timeout_ms }),
    timeoutMs: config.timeout_ms,
    pathFor,
    authHeaders,
  };
}
