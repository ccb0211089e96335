/**
 * resources/subscribe through the gatekeeper: one upstream subscription per resource however many agent sessions
 * asked (each asked through its own decided `mcp.resource_subscribe`), and the server's update notices fanned out to
 * exactly those sessions.
 */
import type { Server } from '@modelcontextprotocol/server';
import type { UpstreamEntry } from './endpoint.js';

export class Subscriptions {
  private readonly byResource = new Map<string, Set<Server>>();
  private readonly listening = new WeakSet<UpstreamEntry>();

  async subscribe(entry: UpstreamEntry, uri: string, session: Server): Promise<void> {
    const key = `${entry.name}\n${uri}`;
    let sessions = this.byResource.get(key);
    if (!sessions) {
      await (await entry.upstream.ready()).subscribeResource({ uri });
      sessions = new Set();
      this.byResource.set(key, sessions);
    }
    sessions.add(session);
    if (!this.listening.has(entry)) {
      this.listening.add(entry);
      entry.upstream.resourceUpdated.add((updated) => this.updated(entry, updated));
    }
  }

  async unsubscribe(entry: UpstreamEntry, uri: string, session: Server): Promise<void> {
    const key = `${entry.name}\n${uri}`;
    const sessions = this.byResource.get(key);
    if (!sessions?.delete(session) || sessions.size) return;
    this.byResource.delete(key);
    await (await entry.upstream.ready()).unsubscribeResource({ uri }).catch(() => {});
  }

  /** A closed session stops receiving notices. */
  drop(session: Server): void {
    for (const sessions of this.byResource.values()) sessions.delete(session);
  }

  private updated(entry: UpstreamEntry, uri: string): void {
    for (const session of this.byResource.get(`${entry.name}\n${uri}`) ?? []) {
      session.notification({ method: 'notifications/resources/updated', params: { uri } }).catch(() => {});
    }
  }
}
