/**
 * Tool-definition pinning. The first time the gatekeeper sees a tool, it records the digest of its definition in
 * the ledger (record `mcp.tool_pinned`, id `mcp.pin/<server>/<tool>`, the definition itself as payload). Every later
 * definition is compared with that pin; one that differs ("rug pull": a changed description, schema or name) is
 * recorded once per distinct digest (`mcp.tool_changed`, linked to the pin) and reaches the policy as
 * `definition.changed: true`. Pins live in the ledger, so they survive restarts and an auditor can see every
 * definition an agent was offered. A pin that cannot be recorded fails the listing or call (fail closed).
 */
import type { Ledger } from '@oagf/ledger';
import { digestOf } from '../../digest.js';
import type { Tool } from '@modelcontextprotocol/client';

export interface Pin {
  digest: string;
  at: string;
}

export interface PinnedTool {
  digest: string;
  pin: Pin;
  changed: boolean;
}

/** The parts of a definition a model reads or a client acts on; `_meta` and icons are presentation. */
export function definitionDigest(tool: Tool): string {
  const { name, title, description, inputSchema, outputSchema, annotations } = tool;
  return digestOf({ name, title, description, inputSchema, outputSchema, annotations });
}

export class PinBook {
  private readonly pins = new Map<string, Promise<Pin>>();
  private readonly changes = new Map<string, Promise<void>>();

  constructor(
    private readonly ledger: Ledger | undefined,
    private readonly clock: () => Date,
  ) {}

  async check(server: string, tool: Tool): Promise<PinnedTool> {
    const digest = definitionDigest(tool);
    const id = `mcp.pin/${server}/${tool.name}`;
    let pin = this.pins.get(id);
    if (!pin) {
      pin = this.recall(id).then((known) => known ?? this.record(id, server, tool, digest));
      this.pins.set(id, pin);
      pin.catch(() => this.pins.delete(id));
    }
    const pinned = await pin;
    const changed = pinned.digest !== digest;
    if (changed) await this.recordChange(id, server, tool, digest, pinned);
    return { digest, pin: pinned, changed };
  }

  /** The pin a previous run recorded, if any. */
  private async recall(id: string): Promise<Pin | undefined> {
    const found = await this.ledger?.findById(id);
    if (!found) return undefined;
    const data = found.record.data as { digest: string };
    return { digest: data.digest, at: found.record.time };
  }

  private async record(id: string, server: string, tool: Tool, digest: string): Promise<Pin> {
    const at = this.clock().toISOString();
    await this.ledger?.append({ v: 1, type: 'mcp.tool_pinned', id, time: at, data: { server, tool: tool.name, digest } }, { definition: JSON.stringify(tool) });
    return { digest, at };
  }

  private recordChange(pinId: string, server: string, tool: Tool, digest: string, pin: Pin): Promise<void> {
    const id = `${pinId}/${digest}`;
    let done = this.changes.get(id);
    if (!done) {
      done = (async () => {
        if (await this.ledger?.findById(id)) return;
        const link = await this.ledger?.findById(pinId);
        await this.ledger?.append(
          {
            v: 1,
            type: 'mcp.tool_changed',
            id,
            time: this.clock().toISOString(),
            data: { server, tool: tool.name, digest, pinned_digest: pin.digest },
            ...(link ? { links: [{ rel: 'pin', id: pinId, index: link.index }] } : {}),
          },
          { definition: JSON.stringify(tool) },
        );
      })();
      this.changes.set(id, done);
      done.catch(() => this.changes.delete(id));
    }
    return done;
  }
}
