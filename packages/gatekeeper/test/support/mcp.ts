/**
 * MCP test parts: a gatekeeper (core fixture) with real MCP servers behind it — server-everything over stdio and
 * server-filesystem over stdio on a temp directory — and the official SDK Client over Streamable HTTP.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startGatekeeper, type Fixture, type FixtureOptions } from '../core/fixture.js';

const require = createRequire(import.meta.url);
export const EVERYTHING = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');

export const MCP_SETTINGS = {
  defaults: { models: ['gpt-4o-mini'] },
  approvers: { groups: ['reviewers'] },
  agents: {
    buyer: {
      mcp: {
        servers: {
          everything: { tools: ['echo', 'get-sum', 'get-env', 'get-structured-content', 'trigger-long-running-operation'], resources: ['demo://resource/static/*'], prompts: ['simple-prompt'] },
          fs: { tools: ['read_text_file', 'list_directory', 'list_allowed_directories', 'write_file'] },
        },
      },
    },
    planner: { mcp: { servers: { everything: { tools: ['echo'] } } } },
  },
};

export interface McpFixture extends Fixture {
  files: string;
}

export async function startMcpGatekeeper(options: FixtureOptions & { servers?: Record<string, unknown> } = {}): Promise<McpFixture> {
  const files = mkdtempSync(join(tmpdir(), 'gk-mcp-files-'));
  const servers = options.servers ?? {
    everything: { stdio: { command: process.execPath, args: [EVERYTHING, 'stdio'] } },
    fs: { stdio: { command: process.execPath, args: [FILESYSTEM, files] } },
  };
  const fx = await startGatekeeper({
    settings: { config: MCP_SETTINGS },
    ...options,
    config: { mcp: { servers }, ...options.config },
  });
  return { ...fx, files };
}

export async function connect(url: string, key: string, options: { path?: string; capabilities?: Record<string, unknown> } = {}): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}${options.path ?? '/mcp'}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
