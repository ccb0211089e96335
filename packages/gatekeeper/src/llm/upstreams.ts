/**
 * LLM upstreams: which upstreams serve a model, in the order they are tried, and how a call is addressed to each.
 * Each upstream is one UpstreamClient (keep-alive pool, credential from the environment added there, so the agent
 * never holds it). A surface asks only for the upstreams that speak its protocol: OpenAI's (flavors `openai` and
 * `azure`) or Anthropic's Messages API (flavor `anthropic`).
 */
import type { LlmConfig, LlmUpstream } from '../config/schema.js';
import { GateHttpError } from '../http/errors.js';
import { UpstreamClient, type UpstreamServices } from '../upstream/index.js';

export type Endpoint = 'chat/completions' | 'responses' | 'embeddings' | 'messages' | 'models';
export type Protocol = 'openai' | 'anthropic';
export type Flavor = LlmUpstream['flavor'];

export const protocolOf = (flavor: Flavor): Protocol => (flavor === 'anthropic' ? 'anthropic' : 'openai');

export interface Upstream {
  name: string;
  flavor: Flavor;
  client: UpstreamClient;
  /** Headers every call to this upstream carries that are not secrets (a pinned `anthropic-version`). */
  headers: Record<string, string>;
  /** Path and query below the base URL for an endpoint and model (Azure puts the deployment and api-version there). */
  pathFor(endpoint: Endpoint, model: string): { path: string; query: string };
}

interface Route {
  pattern: string;
  prefix: boolean;
  upstreams: Upstream[];
}

export class ModelRouter {
  readonly upstreams: Upstream[];
  private readonly routes: Route[] = [];
  private readonly fallback: Upstream[];

  constructor(
    config: LlmConfig,
    readonly protocol: Protocol,
    env: NodeJS.ProcessEnv = process.env,
    services: UpstreamServices = {},
  ) {
    const mine = config.upstreams.filter((u) => protocolOf(u.flavor) === protocol);
    this.upstreams = mine.map((u) => buildUpstream(u, env, services));
    const byName = new Map(this.upstreams.map((u) => [u.name, u]));
    // Configured routes come first: an ordered list of upstreams per model, tried in turn.
    for (const route of config.routes) {
      const upstreams = route.upstreams.map((name) => byName.get(name));
      if (upstreams.some((u) => u === undefined)) continue; // a route of the other protocol
      for (const pattern of route.models) this.routes.push({ ...parsePattern(pattern), upstreams: upstreams as Upstream[] });
    }
    mine.forEach((u, i) => {
      for (const pattern of u.models) this.routes.push({ ...parsePattern(pattern), upstreams: [this.upstreams[i]!] });
    });
    const named = config.default !== undefined ? byName.get(config.default) : undefined;
    const open = this.upstreams[mine.findIndex((u) => u.models.length === 0)];
    this.fallback = named ? [named] : open ? [open] : [];
  }

  /** The upstreams for a model, in the order they are tried; a 404 when none is. */
  route(model: string): Upstream[] {
    for (const r of this.routes) {
      if (r.prefix ? model.startsWith(r.pattern) : model === r.pattern) return r.upstreams;
    }
    if (this.fallback.length > 0) return this.fallback;
    const api = this.protocol === 'anthropic' ? 'the Anthropic Messages API' : 'the OpenAI API';
    throw new GateHttpError('not_found', `model "${model}" is not routed to any configured upstream speaking ${api}`, { code: 'model_not_found', param: 'model' });
  }

  /** Model names configured by exact name (patterns cannot be listed). */
  models(): { id: string; owned_by: string }[] {
    return this.routes.filter((r) => !r.prefix).map((r) => ({ id: r.pattern, owned_by: r.upstreams[0]!.name }));
  }

  async close(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.client.close()));
  }
}

const parsePattern = (pattern: string) => (pattern.endsWith('*') ? { pattern: pattern.slice(0, -1), prefix: true } : { pattern, prefix: false });

function buildUpstream(config: LlmUpstream, env: NodeJS.ProcessEnv, services: UpstreamServices): Upstream {
  const credentials: Record<string, string> = {};
  if (config.api_key) {
    const secret = env[config.api_key.env];
    if (!secret) throw new Error(`llm upstream "${config.name}": environment variable ${config.api_key.env} (its api_key) is not set`);
    if (config.flavor === 'azure') credentials['api-key'] = config.api_key.prefix + secret;
    else if (config.flavor === 'anthropic') credentials['x-api-key'] = config.api_key.prefix + secret;
    else credentials.authorization = (config.api_key.prefix || 'Bearer ') + secret;
  }
  const client = new UpstreamClient({ name: config.name, baseUrl: config.base_url, timeoutMs: config.timeout_ms, credentials }, services);
  const headers: Record<string, string> = config.flavor === 'anthropic' && config.anthropic_version ? { 'anthropic-version': config.anthropic_version } : {};
  return { name: config.name, flavor: config.flavor, client, headers, pathFor: pathsOf(config) };
}

function pathsOf(config: LlmUpstream): Upstream['pathFor'] {
  if (config.flavor === 'anthropic') return (endpoint) => ({ path: `/v1/${endpoint}`, query: '' });
  if (config.flavor === 'openai') return (endpoint) => ({ path: `/${endpoint}`, query: '' });
  const query = `api-version=${encodeURIComponent(config.api_version!)}`;
  return (endpoint, model) =>
    endpoint === 'responses' || endpoint === 'models'
      ? { path: `/openai/${endpoint}`, query }
      : { path: `/openai/deployments/${encodeURIComponent(model)}/${endpoint}`, query };
}
