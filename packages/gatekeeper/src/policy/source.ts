/**
 * The active policy bundle, hot-reloaded: fs.watch on the bundle directory, debounced; a candidate bundle that
 * fails to read or compile is rejected with a logged error and the previous one stays active.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readBundle } from './bundle.js';
import type { PolicyEvaluator, PolicySource } from './engine.js';
import { compileBundle, type EvalLimits } from './rego.js';

export interface ReloadResult {
  ok: boolean;
  digest?: string;
  error?: string;
}

export interface BundleEvents {
  loaded(digest: string, dir: string): void;
  rejected(error: string, dir: string): void;
}

export class WatchedBundle implements PolicySource {
  private active?: PolicyEvaluator;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private readonly listeners = new Set<(r: ReloadResult) => void>();

  constructor(
    readonly dir: string,
    private readonly limits: EvalLimits,
    private readonly events: BundleEvents,
  ) {}

  current(): PolicyEvaluator | undefined {
    return this.active;
  }

  /** Reads and compiles the bundle; swaps it in only when it compiles. */
  reload(): ReloadResult {
    let result: ReloadResult;
    try {
      const next = compileBundle(readBundle(this.dir), this.limits);
      if (next.digest !== this.active?.digest) {
        this.active = next;
        this.events.loaded(next.digest, this.dir);
      }
      result = { ok: true, digest: next.digest };
    } catch (err) {
      result = { ok: false, error: (err as Error).message };
      this.events.rejected(result.error!, this.dir);
    }
    for (const l of this.listeners) l(result);
    return result;
  }

  /** Calls `listener` after every reload attempt (tests and readiness). */
  onReload(listener: (r: ReloadResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  watch(debounceMs: number): void {
    this.watcher = watch(this.dir, { recursive: true }, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), debounceMs);
    });
    this.watcher.on('error', (err) => this.events.rejected(`watching ${this.dir} failed: ${err.message}`, this.dir));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
