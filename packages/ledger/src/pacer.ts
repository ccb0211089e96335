/**
 * Decides whether group commits overlap with their callers' work. Callers in a steady loop (each appends again
 * once its last append resolved) refill the queue in one burst right after their batch resolves, while the writer
 * idles. When a commit is quicker than that burst, splitting the callers into two groups whose batches alternate
 * lets one group's burst run while the other group's batch commits. That costs a second commit (a second fsync)
 * per round, so when commits are slow the groups stay merged in one batch.
 */
export class CommitPacer {
  /** How long the last commit ran off the event loop, as the store reported it; until then, no split. */
  private commitMs = Infinity;
  /** The callers' work per resolved append, from the last burst. */
  private burstMsPerAppend = 0;

  committed(commitMs: number): void {
    this.commitMs = commitMs;
  }

  /** `count` appends were just resolved: times the burst of work their callers do before the event loop moves on. */
  resolved(count: number): void {
    if (count === 0) return;
    const start = performance.now();
    setImmediate(() => (this.burstMsPerAppend = (performance.now() - start) / count));
  }

  /**
   * Whether a round of `appends` (all callers' appends between two commits of the same caller) is better split in
   * two batches. Measured on a 2-core VM, splitting won while a commit took up to about one and a half times the
   * burst of the round's callers, and lost badly once commits took several bursts (a slow disk). A commit that
   * runs on the event loop leaves nothing to overlap.
   */
  split(appends: number): boolean {
    return this.commitMs > 0 && this.commitMs < 1.5 * this.burstMsPerAppend * appends;
  }
}
