/**
 * The notifier over PostgreSQL LISTEN/NOTIFY: a notice published on any replica reaches the subscribers on every
 * replica listening on the same schema (a verdict given on replica B wakes the request held on replica A). Every
 * notice, local ones too, arrives through the database, so all replicas see one order. While the listening
 * connection is down notices are missed; once it is back every subscriber gets a RESYNC notice to re-read.
 */
import pg from 'pg';
import { RESYNC, type Notice, type Notifier } from '../notifier.js';

const RECONNECT_MS = 500;

export class PostgresNotifier implements Notifier {
  private readonly listeners = new Map<string, Set<(notice: Notice) => void>>();
  private client: pg.Client | undefined;
  private closed = false;

  static async open(url: string, pool: pg.Pool, schema: string): Promise<PostgresNotifier> {
    const notifier = new PostgresNotifier(url, pool, `gatekeeper_${schema}`);
    await notifier.listen();
    return notifier;
  }

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly channel: string,
  ) {}

  async publish(topic: string, notice: Notice): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify({ topic, notice })]);
  }

  subscribe(topic: string, listener: (notice: Notice) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      const { topic, notice } = JSON.parse(message.payload) as { topic: string; notice: Notice };
      for (const listener of [...(this.listeners.get(topic) ?? [])]) listener(notice);
    });
    client.on('error', () => {
      if (this.client !== client) return;
      this.drop(client);
      this.reconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      this.drop(client);
      throw error;
    }
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    client.end().catch(() => undefined);
  }

  private reconnect(): void {
    setTimeout(() => void this.listen().then(() => this.resync(), () => this.reconnect()), RECONNECT_MS).unref();
  }

  private resync(): void {
    for (const set of this.listeners.values()) for (const listener of [...set]) listener({ event: RESYNC, id: '' });
  }
}
