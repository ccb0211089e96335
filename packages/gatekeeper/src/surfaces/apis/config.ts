/** The configured business APIs, resolved at start: credentials from the environment, one upstream client each. */
import type { ApiConfig } from '../../config/schema.js';
import { requestHeaderAllowlist, UpstreamClient, type UpstreamServices } from '../../upstream/index.js';

export interface ResolvedApi {
  name: string;
  upstream: UpstreamClient;
  /** The agent's request headers this API may see. */
  forwardHeaders: ReadonlySet<string>;
}

/** A missing environment variable or a header that may never be forwarded is a start-up error naming the config path. */
export function resolveApis(apis: Record<string, ApiConfig>, env: NodeJS.ProcessEnv = process.env, services: UpstreamServices = {}): Map<string, ResolvedApi> {
  const out = new Map<string, ResolvedApi>();
  for (const [name, api] of Object.entries(apis)) {
    const credentials: Record<string, string> = {};
    for (const [header, secret] of Object.entries(api.headers)) {
      const value = env[secret.env];
      if (value === undefined) throw new Error(`apis.${name}.headers.${header}: environment variable ${secret.env} is not set`);
      credentials[header.toLowerCase()] = secret.prefix + value;
    }
    const upstream = new UpstreamClient({ name, baseUrl: api.base_url, timeoutMs: api.timeout_ms, credentials }, services);
    out.set(name, { name, upstream, forwardHeaders: requestHeaderAllowlist(api.forward_headers, `apis.${name}.forward_headers`) });
  }
  return out;
}
