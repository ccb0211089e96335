import { createHash, type Hash } from 'node:crypto';
import type { StreamSummary } from './types.js';

/** stdout and stderr share one byte budget; the chunk that crosses it is cut and the budget's owner told once. */
export class OutputBudget {
  private used = 0;
  private exceeded = false;

  constructor(
    private readonly limit: number,
    private readonly onExceeded: () => void,
  ) {}

  /** The part of `chunk` that still fits. */
  take(chunk: Buffer): Buffer {
    const room = this.limit - this.used;
    if (chunk.length <= room) {
      this.used += chunk.length;
      return chunk;
    }
    this.used = this.limit;
    if (!this.exceeded) {
      this.exceeded = true;
      this.onExceeded();
    }
    return chunk.subarray(0, Math.max(0, room));
  }

  get wasExceeded(): boolean {
    return this.exceeded;
  }
}

export class StreamCapture {
  private readonly chunks: Buffer[] = [];
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  truncated = false;

  constructor(
    private readonly budget: OutputBudget,
    private readonly listener?: (chunk: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    const kept = this.budget.take(chunk);
    if (kept.length < chunk.length) this.truncated = true;
    if (kept.length === 0) return;
    this.chunks.push(kept);
    this.hash.update(kept);
    this.bytes += kept.length;
    this.listener?.(kept);
  }

  summary(): StreamSummary {
    return { bytes: this.bytes, sha256: this.hash.copy().digest('hex'), truncated: this.truncated };
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
