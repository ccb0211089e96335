/**
 * The MCP surface: the gatekeeper is an MCP server to the agent (`/mcp`, `/mcp/<server>`) and an MCP client to
 * each server in `mcp.servers`. Every call is decided, recorded and only then carried out (governed.ts).
 */
import { Redactor } from '../../redact.js';
import type { SurfaceModule } from '../../surface.js';
import { ToolCatalog } from './catalog.js';
import { Endpoint, type UpstreamEntry } from './endpoint.js';
import { McpHttp } from './http.js';
import { PinBook } from './pins.js';
import { RetryBook } from './retries.js';
import { SANDBOX_SERVER, SandboxTool } from './sandbox-tool.js';
import { Subscriptions } from './subscriptions.js';
import { McpUpstream } from './upstream.js';

export const mcpSurface: SurfaceModule = {
  name: 'mcp',
  register(router, deps) {
    const config = deps.config.mcp;
    if (!config) return;
    const pins = new PinBook(deps.ledger, deps.clock);
    const entries: UpstreamEntry[] = Object.entries(config.servers).map(([name, server]) => {
      const upstream = new McpUpstream(name, server, { logger: deps.logger, env: deps.env, metrics: deps.metrics });
      return { name, prefix: server.prefix ?? name, upstream, catalog: new ToolCatalog(upstream, pins), timeoutMs: server.timeout_ms };
    });
    const taken = entries.find((e) => e.name === SANDBOX_SERVER || e.prefix === SANDBOX_SERVER);
    if (deps.sandbox && taken) throw new Error(`mcp.servers.${taken.name}: the name or prefix "${SANDBOX_SERVER}" is the sandbox's tool on /mcp while sandbox: is configured; choose another`);
    const sandbox = deps.sandbox ? new SandboxTool(deps.sandbox, pins) : undefined;
    const endpoints = new Map<string, Endpoint>([['', new Endpoint('/mcp', entries, config.separator, undefined, sandbox)]]);
    for (const entry of entries) endpoints.set(entry.name, new Endpoint(`/mcp/${entry.name}`, [entry], config.separator, entry.name));
    const http = new McpHttp(deps, config, endpoints, {
      governance: { deps, redactor: deps.redactor, retries: new RetryBook() },
      subscriptions: new Subscriptions(),
    });
    http.register(router);
    for (const entry of entries) void entry.upstream.start();
    return {
      close: async () => {
        await http.close();
        await Promise.all(entries.map((e) => e.upstream.close()));
      },
    };
  },
};

export { McpUpstream } from './upstream.js';
