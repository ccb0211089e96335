import { randomBytes } from 'node:crypto';
import { disposeSandbox, isAlive, type PreparedSandbox } from './bwrap-prepare.js';
import type { SandboxShape } from './execution.js';

type Prepare = (id: string, shape: SandboxShape) => Promise<PreparedSandbox>;

interface Entry {
  diskBytes: number;
  sandbox: Promise<PreparedSandbox | null>;
  ready: boolean;
}

/**
 * Sandboxes without network prepared ahead of their requests, so an execution skips bwrap's namespace and mount set-up
 * and the cgroup moves. Each is used once. The pool follows the size (tmpfs) of the latest request: on a change the
 * old ones are dropped. Size 0 turns it off.
 */
export class WarmPool {
  private entries: Entry[] = [];
  private readonly disposals = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly prepare: Prepare,
  ) {}

  /** Sandboxes set up and waiting. */
  get ready(): number {
    return this.entries.filter((e) => e.ready).length;
  }

  /** A warm sandbox of this shape if one is ready (or being made), else null. */
  async take(shape: SandboxShape): Promise<PreparedSandbox | null> {
    if (this.size === 0 || this.closed) return null;
    const i = this.entries.findIndex((e) => e.diskBytes === shape.diskBytes);
    const entry = i >= 0 ? this.entries.splice(i, 1)[0]! : null;
    const sandbox = entry ? await entry.sandbox : null;
    if (!sandbox) return null;
    if (isAlive(sandbox)) return sandbox;
    this.dispose(Promise.resolve(sandbox));
    return null;
  }

  /**
   * Tops the pool up with sandboxes of this shape. Called once an execution's program runs, not when it takes its
   * sandbox: spawning blocks this thread for milliseconds, which would otherwise delay the execution's own start.
   */
  refill(shape: SandboxShape): void {
    if (this.size === 0 || this.closed) return;
    for (const stale of this.entries.filter((e) => e.diskBytes !== shape.diskBytes)) this.drop(stale);
    this.entries = this.entries.filter((e) => e.diskBytes === shape.diskBytes);
    while (this.entries.length < this.size) {
      // A failed preparation only means the next execution prepares its own (and reports the failure).
      const entry: Entry = { diskBytes: shape.diskBytes, sandbox: this.prepare(`warm-${randomBytes(12).toString('hex')}`, shape).catch(() => null), ready: false };
      void entry.sandbox.then((s) => (entry.ready = s !== null));
      this.entries.push(entry);
    }
  }

  private drop(entry: Entry): void {
    this.dispose(entry.sandbox);
  }

  private dispose(sandbox: Promise<PreparedSandbox | null>): void {
    const done: Promise<void> = sandbox
      .then((s) => (s ? disposeSandbox(s) : undefined))
      .catch(() => undefined)
      .finally(() => this.disposals.delete(done));
    this.disposals.add(done);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.splice(0)) this.drop(entry);
    await Promise.all(this.disposals);
  }
}
