/**
 * One upstream MCP server: the gatekeeper's SDK `Client` connected to it, kept connected.
 *
 * - stdio: the gatekeeper spawns the process (environment: the SDK's safe defaults plus what the config names),
 *   logs its stderr line by line, and when it exits restarts it with exponential back-off (reset once it has run
 *   `stable_ms`). Meanwhile every call fails at once with an error saying so; none waits or is queued.
 * - http: Streamable HTTP through the gatekeeper's `UpstreamClient` (credentials from the environment); a lost
 *   connection is re-established the same way.
 *
 * Upstream connections speak the 2025 revisions (the `initialize` handshake): that is what MCP servers ship today;
 * the agent side negotiates its own revision independently.
 */
import { createInterface } from 'node:readline';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { EnvSecret, McpServerConfig } from '../../config/schema.js';
import { envSecret } from '../../config/secrets.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import { UpstreamClient } from '../../upstream/index.js';
import { postToolCall } from './upstream-call.js';
import { upstreamFetch } from './upstream-fetch.js';

export interface ToolCallOptions {
  signal: AbortSignal;
  timeout: number;
  onprogress?: (p: { progress: number; total?: number; message?: string }) => void;
}

export type UpstreamState = 'connecting' | 'ready' | 'restarting' | 'closed';

/** The upstream cannot take calls right now (crashed and restarting, unreachable, shut down). */
export class McpUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpUnavailable';
  }
}

export interface UpstreamDeps {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  metrics?: Metrics;
}

export class McpUpstream {
  state: UpstreamState = 'connecting';
  /** Called when the server says its tool list changed, and after every (re)connect. */
  readonly toolsChanged = new Set<() => void>();
  /** Called with the URI of a subscribed resource the server says changed. */
  readonly resourceUpdated = new Set<(uri: string) => void>();
  private client: Client | undefined;
  private transport: StdioClientTransport | StreamableHTTPClientTransport | undefined;
  private http: UpstreamClient | undefined;
  private problem = 'it is starting';
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private connectedAt = 0;
  private starting: Promise<void> | undefined;
  private readonly childEnv: Record<string, string> | undefined;

  constructor(
    readonly name: string,
    readonly config: McpServerConfig,
    private readonly deps: UpstreamDeps,
  ) {
    this.delay = config.stdio?.restart.initial_ms ?? 250;
    // Resolved once at start: a missing variable is a configuration error, not a runtime surprise.
    if (config.stdio) this.childEnv = { ...getDefaultEnvironment(), ...resolveEnv(config.stdio.env, deps.env, `mcp.servers.${name}.stdio.env`) };
    if (config.http) {
      const url = new URL(config.http.url);
      const credentials = resolveHeaders(config.http.headers, deps.env, `mcp.servers.${name}.http.headers`);
      this.http = new UpstreamClient({ name: `mcp:${name}`, baseUrl: `${url.origin}${url.pathname}`, timeoutMs: config.timeout_ms, credentials }, deps);
    }
  }

  /** Connects; failures are retried in the background (the gatekeeper starts even when an upstream is down). */
  start(): Promise<void> {
    this.starting ??= this.connect().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /**
   * The connected client. While the first connection is being made a call waits for it; a server that crashed
   * and is waiting to restart fails at once with McpUnavailable naming why (nothing queues behind a dead server).
   */
  async ready(): Promise<Client> {
    if (this.state === 'connecting' && this.starting) await this.starting;
    return this.connected();
  }

  /**
   * A tools/call. Over HTTP a plain call (no progress asked for, no output schema for the SDK client to check the
   * result against) is one POST on the SDK client's session (upstream-call.ts); everything else is the SDK client's.
   */
  async callTool(params: { name: string; arguments: Record<string, unknown> }, options: ToolCallOptions, tool: Tool): Promise<CallToolResult> {
    const client = await this.ready();
    const transport = this.transport;
    if (this.http && transport instanceof StreamableHTTPClientTransport && !options.onprogress && !tool.outputSchema) {
      return postToolCall({ http: this.http, client, transport, lost: (why) => this.client === client && this.lost(why) }, params, options);
    }
    return (await client.callTool(params, options)) as CallToolResult;
  }

  private connected(): Client {
    if (this.state === 'ready' && this.client) return this.client;
    if (this.state === 'closed') throw new McpUnavailable(`MCP server "${this.name}" is shut down`);
    throw new McpUnavailable(`MCP server "${this.name}" is unavailable: ${this.problem}`);
  }

  /** Process id of a stdio server (tests, logs). */
  get pid(): number | undefined {
    return this.transport instanceof StdioClientTransport ? (this.transport.pid ?? undefined) : undefined;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.timer);
    await this.starting?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    // Closes stdin, then SIGTERM, then SIGKILL for a stdio server; ends the HTTP session.
    await client?.close().catch(() => {});
    await this.http?.close();
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const client = new Client({ name: 'oagf-gatekeeper', version: '0.1.0' }, { capabilities: {} });
    const transport = this.makeTransport();
    this.transport = transport;
    client.setNotificationHandler('notifications/tools/list_changed', () => this.toolsChanged.forEach((f) => f()));
    client.setNotificationHandler('notifications/resources/updated', (n) => this.resourceUpdated.forEach((f) => f(n.params.uri)));
    let failed = false;
    client.onclose = () => {
      if (this.client === client) this.lost('the connection closed');
      else if (!failed) failed = true;
    };
    try {
      await client.connect(transport);
    } catch (err) {
      failed = true;
      await client.close().catch(() => {});
      this.scheduleRestart(`connecting failed: ${(err as Error).message}`);
      return;
    }
    // Shut down while the handshake ran.
    if ((this.state as UpstreamState) === 'closed') {
      await client.close().catch(() => {});
      return;
    }
    this.client = client;
    this.state = 'ready';
    this.connectedAt = Date.now();
    this.deps.logger.info({ mcp_server: this.name, pid: this.pid }, 'MCP server connected');
    this.toolsChanged.forEach((f) => f());
  }

  private makeTransport(): StdioClientTransport | StreamableHTTPClientTransport {
    const { stdio, http } = this.config;
    if (stdio) {
      const transport = new StdioClientTransport({
        command: stdio.command,
        args: stdio.args,
        env: this.childEnv!,
        ...(stdio.cwd ? { cwd: stdio.cwd } : {}),
        stderr: 'pipe',
      });
      const stderr = transport.stderr;
      if (stderr) {
        createInterface({ input: stderr as unknown as NodeJS.ReadableStream }).on('line', (line) => this.deps.logger.info({ mcp_server: this.name, stderr: line }, 'MCP server stderr'));
      }
      return transport;
    }
    return new StreamableHTTPClientTransport(new URL(http!.url), { fetch: upstreamFetch(this.http!) });
  }

  private lost(why: string): void {
    if (this.state === 'closed') return;
    const client = this.client;
    this.client = undefined;
    client?.close().catch(() => {});
    this.deps.logger.warn({ mcp_server: this.name, why }, 'MCP server lost; restarting');
    // A process that ran long enough was healthy: start again from the shortest wait.
    const restart = this.config.stdio?.restart;
    if (restart && Date.now() - this.connectedAt >= restart.stable_ms) this.delay = restart.initial_ms;
    this.scheduleRestart(why === 'the connection closed' && this.config.stdio ? 'the process exited' : why);
  }

  private scheduleRestart(why: string): void {
    if (this.state === 'closed') return;
    this.state = 'restarting';
    const wait = this.delay;
    const max = this.config.stdio?.restart.max_ms ?? 30_000;
    this.delay = Math.min(this.delay * 2, max);
    this.problem = `${why}; retrying in ${wait < 1000 ? `${wait} ms` : `${Math.round(wait / 1000)} s`}`;
    this.deps.logger.warn({ mcp_server: this.name, why, retry_in_ms: wait }, 'MCP server unavailable');
    this.timer = setTimeout(() => void this.start(), wait);
    this.timer.unref();
  }
}

function resolveEnv(env: Record<string, string | EnvSecret>, from: NodeJS.ProcessEnv, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string') out[name] = value;
    else out[name] = envSecret(value, from, `${where}.${name}`);
  }
  return out;
}

function resolveHeaders(headers: Record<string, EnvSecret>, from: NodeJS.ProcessEnv, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, secret] of Object.entries(headers)) out[header.toLowerCase()] = envSecret(secret, from, `${where}.${header}`);
  return out;
}
