/**
 * Ships decision-log events to an OPA-compatible service in the background: batched, gzip-compressed, retried with
 * exponential back-off. It never blocks a decision (events are queued after the ledger commit) and never holds more
 * than `bufferEvents`: past that the oldest are dropped and counted — the signed ledger stays the record.
 */
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import type { DecisionLogEvent } from './event.js';

export interface ShipperOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxEvents: number;
  maxDelayMs: number;
  bufferEvents: number;
  maxRetryDelayMs: number;
  onSent(count: number): void;
  onDropped(count: number): void;
  onError(err: unknown): void;
}

export class DecisionLogShipper {
  private queue: DecisionLogEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private retryDelay = 0;
  private closed = false;

  constructor(private readonly o: ShipperOptions) {}

  push(event: DecisionLogEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    if (this.queue.length > this.o.bufferEvents) this.o.onDropped(this.queue.splice(0, this.queue.length - this.o.bufferEvents).length);
    if (this.queue.length >= this.o.maxEvents) this.flushSoon(0);
    else this.flushSoon(this.o.maxDelayMs);
  }

  /** Sends what is queued (on shutdown), trying once more for what fails. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.sending;
    if (this.queue.length) await this.send().catch(() => undefined);
  }

  private flushSoon(delayMs: number): void {
    if (this.sending) return;
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.send().finally(() => {
        this.sending = undefined;
        if (this.queue.length && !this.closed) this.flushSoon(this.retryDelay || (this.queue.length >= this.o.maxEvents ? 0 : this.o.maxDelayMs));
      });
    }, Math.max(delayMs, this.retryDelay));
    this.timer.unref();
  }

  private async send(): Promise<void> {
    const batch = this.queue.splice(0, this.o.maxEvents);
    if (batch.length === 0) return;
    try {
      const res = await request(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...this.o.headers },
        body: gzipSync(JSON.stringify(batch)),
        headersTimeout: this.o.timeoutMs,
        bodyTimeout: this.o.timeoutMs,
      });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`decision-log service answered ${res.statusCode}`);
      this.retryDelay = 0;
      this.o.onSent(batch.length);
    } catch (err) {
      // Back to the front of the queue, in order; the buffer bound still applies.
      this.queue.unshift(...batch);
      if (this.queue.length > this.o.bufferEvents) this.o.onDropped(this.queue.splice(0, this.queue.length - this.o.bufferEvents).length);
      this.retryDelay = Math.min(this.o.maxRetryDelayMs, this.retryDelay ? this.retryDelay * 2 : 250);
      this.o.onError(err);
    }
  }
}
