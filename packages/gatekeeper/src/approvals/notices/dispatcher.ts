/**
 * Sends the notices for a new approval to every configured channel, in the background: each delivery is retried
 * with exponential backoff, its status is saved for the console, and nothing here can block or change a decision.
 */
import { EventEmitter } from 'node:events';
import type { ApprovalStore } from '../../stores/approvals.js';
import type { Notifier } from '../../stores/notifier.js';
import { APPROVALS_TOPIC } from '../service.js';
import type { Approval, NoticeDelivery } from '../types.js';
import { noticeFacts, type NoticeFacts } from './message.js';
import { slackMessage } from './slack.js';
import { teamsMessage } from './teams.js';
import { cloudEvent, signBody, SIGNATURE_HEADER } from './webhook.js';

export interface NoticeChannel {
  /** Unique per configuration, e.g. "teams#1". */
  name: string;
  url: string;
  render(a: Approval, facts: NoticeFacts): { body: string; headers: Record<string, string> };
}

export function teamsChannel(name: string, url: string): NoticeChannel {
  return { name, url, render: (_a, f) => json(teamsMessage(f)) };
}

export function slackChannel(name: string, url: string): NoticeChannel {
  return { name, url, render: (_a, f) => json(slackMessage(f)) };
}

export function webhookChannel(name: string, url: string, secret: string, source: string): NoticeChannel {
  return {
    name,
    url,
    render(a, f) {
      const body = JSON.stringify(cloudEvent(a, f, source));
      return { body, headers: { 'content-type': 'application/cloudevents+json', [SIGNATURE_HEADER]: signBody(body, secret) } };
    },
  };
}

function json(v: unknown) {
  return { body: JSON.stringify(v), headers: { 'content-type': 'application/json' } };
}

export interface DispatcherOptions {
  store: ApprovalStore;
  /** Live consoles (on any replica) learn of delivery progress through it. */
  notifier: Notifier;
  channels: NoticeChannel[];
  consoleUrl: string;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

export class NoticeDispatcher extends EventEmitter<{ delivery: [NoticeDelivery] }> {
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly o: DispatcherOptions) {
    super();
  }

  /** Starts delivering notices for `a`; returns at once. */
  dispatch(a: Approval): void {
    if (!this.o.channels.length) return;
    const facts = noticeFacts(a, this.o.consoleUrl);
    for (const channel of this.o.channels) {
      const p = this.deliver(a, channel, facts).catch(() => {});
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
  }

  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  private async deliver(a: Approval, channel: NoticeChannel, facts: NoticeFacts): Promise<void> {
    const { body, headers } = channel.render(a, facts);
    let lastError = '';
    for (let attempt = 1; attempt <= this.o.attempts; attempt++) {
      await this.save(a.id, channel.name, 'pending', attempt - 1, lastError);
      try {
        const res = await fetch(channel.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.o.timeoutMs) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return await this.save(a.id, channel.name, 'delivered', attempt, '');
        lastError = `HTTP ${res.status}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (attempt < this.o.attempts) await sleep(this.o.backoffMs * 2 ** (attempt - 1));
    }
    await this.save(a.id, channel.name, 'failed', this.o.attempts, lastError);
  }

  private async save(approvalId: string, channel: string, status: NoticeDelivery['status'], attempts: number, lastError: string): Promise<void> {
    const d: NoticeDelivery = { approvalId, channel, status, attempts, ...(lastError ? { lastError } : {}), updatedAt: new Date().toISOString() };
    try {
      await this.o.store.saveNotice(d);
      await this.o.notifier.publish(APPROVALS_TOPIC, { event: 'notice', id: approvalId, status });
    } catch {
      // Delivery status is informative only; a store error must not stop the delivery.
    }
    this.emit('delivery', d);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
