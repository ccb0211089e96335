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
  private watchers: FSWatcher[] = [];
  private timer?: NodeJS.Timeout;
  private readonly listeners = new Set<(r: ReloadResult) => void>();

  constructor(
    readonly dirs: string[],
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
      const next = compileBundle(readBundle(this.dirs), this.limits);
      if (next.digest !== this.active?.digest) {
        this.active = next;
        this.events.loaded(next.digest, this.dirs.join(', '));
      }
      result = { ok: true, digest: next.digest };
    } catch (err) {
      result = { ok: false, error: (err as Error).message };
      this.events.rejected(result.error!, this.dirs.join(', '));
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
    for (const dir of this.dirs) {
      const watcher = watch(dir, { recursive: true }, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload(), debounceMs);
      });
      watcher.on('error', (err) => this.events.rejected(`watching ${dir} failed: ${err.message}`, dir));
      this.watchers.push(watcher);
    }
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }
}
