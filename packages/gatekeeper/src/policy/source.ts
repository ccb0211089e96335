/**
 * The active policy bundle, hot-reloaded: fs.watch on the bundle directories or archive, debounced; a candidate
 * bundle that fails to read, verify or compile is rejected with a logged error and the previous one stays active.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { VerificationOptions } from '@oagf/rego';
import { isArchive, readLocalBundle } from './opa-bundle.js';
import type { PolicyEvaluator, PolicySource } from './engine.js';
import { compileBundle, type EvalLimits } from './rego.js';

export interface ReloadResult {
  ok: boolean;
  digest?: string;
  error?: string;
}

export interface BundleEvents {
  loaded(digest: string, dir: string, revision?: string): void;
  rejected(error: string, dir: string): void;
}

export class WatchedBundle implements PolicySource {
  private active?: PolicyEvaluator;
  private watchers: FSWatcher[] = [];
  private timer?: NodeJS.Timeout;
  private readonly listeners = new Set<(r: ReloadResult) => void>();

  /** `paths`: directories of .rego and data files, or one OPA bundle archive (.tar.gz). */
  constructor(
    readonly paths: string[],
    private readonly limits: EvalLimits,
    private readonly events: BundleEvents,
    private readonly verification?: VerificationOptions,
  ) {}

  current(): PolicyEvaluator | undefined {
    return this.active;
  }

  /** Reads and compiles the bundle; swaps it in only when it compiles. */
  reload(): ReloadResult {
    let result: ReloadResult;
    try {
      const files = readLocalBundle(this.paths, this.verification);
      const next = compileBundle(files, this.limits);
      if (next.digest !== this.active?.digest) {
        this.active = next;
        this.events.loaded(next.digest, files.dir, files.revision);
      }
      result = { ok: true, digest: next.digest };
    } catch (err) {
      result = { ok: false, error: (err as Error).message };
      this.events.rejected(result.error!, this.paths.join(', '));
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
    const changed = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), debounceMs);
    };
    for (const path of this.paths) {
      // an archive is usually replaced by a rename, which a watch on the file itself would not see
      const file = isArchive(path) ? basename(path) : undefined;
      const dir = file ? dirname(path) : path;
      const watcher = watch(dir, { recursive: !file }, (_event, name) => {
        if (!file || name === file) changed();
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
