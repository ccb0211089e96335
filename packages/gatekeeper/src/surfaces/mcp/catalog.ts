/**
 * The tools one upstream server offers, each checked against its pin. A listing by an agent always asks the
 * server afresh (that is where a changed definition would reach a model); a call resolves its tool from the last
 * listing, refreshed when the server announces a change or reconnects.
 */
import type { Tool } from '@modelcontextprotocol/client';
import type { PinBook, PinnedTool } from './pins.js';
import type { McpUpstream } from './upstream.js';

export interface CatalogTool extends PinnedTool {
  server: string;
  definition: Tool;
}

export class ToolCatalog {
  private known: Map<string, CatalogTool> | undefined;

  constructor(
    readonly upstream: McpUpstream,
    private readonly pins: PinBook,
  ) {
    upstream.toolsChanged.add(() => {
      this.known = undefined;
    });
  }

  async list(): Promise<CatalogTool[]> {
    const { tools } = await (await this.upstream.ready()).listTools();
    const checked = await Promise.all(tools.map(async (definition) => ({ server: this.upstream.name, definition, ...(await this.pins.check(this.upstream.name, definition)) })));
    this.known = new Map(checked.map((t) => [t.definition.name, t]));
    return checked;
  }

  async get(name: string): Promise<CatalogTool | undefined> {
    if (!this.known) await this.list();
    return this.known!.get(name);
  }
}
