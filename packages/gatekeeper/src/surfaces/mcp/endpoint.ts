/**
 * What an agent connects to: `/mcp` (every configured server as one, tools named `<prefix><separator><tool>`) or
 * `/mcp/<server>` (one server, names as the server gives them); `/mcp` also offers the sandbox's tool when configured. Names resolve back to exactly one server and tool.
 */
import type { ToolCatalog } from './catalog.js';
import type { SandboxTool } from './sandbox-tool.js';
import type { McpUpstream } from './upstream.js';

export interface UpstreamEntry {
  name: string;
  prefix: string;
  upstream: McpUpstream;
  catalog: ToolCatalog;
  timeoutMs: number;
}

export class Endpoint {
  readonly aggregate: boolean;
  private readonly owners = new Map<string, UpstreamEntry>();

  constructor(
    readonly path: string,
    readonly entries: UpstreamEntry[],
    private readonly separator: string,
    /** The one server a `/mcp/<server>` endpoint fronts. */
    readonly server?: string,
    /** The sandbox's own tool (`/mcp` with `sandbox:` configured). */
    readonly sandbox?: SandboxTool,
  ) {
    this.aggregate = server === undefined;
  }

  /** The name the agent sees for an item (tool or prompt) of the server with this prefix. */
  exposed(prefix: string, name: string): string {
    return this.aggregate ? `${prefix}${this.separator}${name}` : name;
  }

  /** The server and upstream name behind an exposed name; undefined when none. */
  resolve(exposed: string): { entry: UpstreamEntry; name: string } | undefined {
    if (!this.aggregate) return { entry: this.entries[0]!, name: exposed };
    const at = exposed.indexOf(this.separator);
    if (at <= 0) return undefined;
    const prefix = exposed.slice(0, at);
    const entry = this.entries.find((e) => e.prefix === prefix);
    return entry ? { entry, name: exposed.slice(at + this.separator.length) } : undefined;
  }

  /** Remembers which server listed a resource, so `/mcp` can route resources/read and subscribe to it. */
  noteResources(entry: UpstreamEntry, uris: string[]): void {
    for (const uri of uris) this.owners.set(uri, entry);
    if (this.owners.size > 100_000) this.owners.delete(this.owners.keys().next().value!);
  }

  resourceOwner(uri: string): UpstreamEntry | undefined {
    return this.owners.get(uri) ?? (this.entries.length === 1 ? this.entries[0] : undefined);
  }

  entry(server: string): UpstreamEntry | undefined {
    return this.entries.find((e) => e.name === server);
  }
}
