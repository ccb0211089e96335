import { SandboxError } from './errors.js';

/** At most `concurrency` holders at once; up to `maxQueued` wait in FIFO order, more are refused. */
export class Slots {
  private active = 0;
  private readonly waiting: { grant: () => void; refuse: (e: Error) => void }[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function; rejects if the queue is full or `signal` aborts while waiting. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new SandboxError('cancelled', 'execution cancelled before it started'));
    const release = () => {
      this.active--;
      this.waiting.shift()?.grant();
    };
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve(once(release));
    }
    if (this.waiting.length >= this.maxQueued) return Promise.reject(new SandboxError('queue_full', `${this.active} executions running and ${this.waiting.length} queued (the maximum)`));
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.active++;
          resolve(once(release));
        },
        refuse: reject,
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new SandboxError('cancelled', 'execution cancelled while queued'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  refuseAll(error: Error): void {
    for (const w of this.waiting.splice(0)) w.refuse(error);
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
