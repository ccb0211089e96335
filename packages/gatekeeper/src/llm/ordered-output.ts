/**
 * Writes stream output in arrival order while some of it waits on decisions. Writes go straight through
 * while nothing is pending (no promise hop for plain text deltas); once a step is waiting, later steps
 * queue behind it.
 */
export class OrderedOutput {
  private tail: Promise<void> | undefined;
  private pending = 0;
  private failure: unknown;

  constructor(private readonly write: (bytes: Uint8Array) => void) {}

  /** Writes bytes now, or after everything queued before them. */
  bytes(bytes: Uint8Array): void {
    if (this.pending === 0) this.write(bytes);
    else this.step(() => this.write(bytes));
  }

  /** Runs a step after everything queued before it; the step may write. */
  step(run: () => void | Promise<void>): void {
    if (this.pending === 0 && this.failure === undefined) {
      let result: void | Promise<void>;
      try {
        result = run();
      } catch (err) {
        this.failure = err;
        return;
      }
      if (!(result instanceof Promise)) return;
      this.track(result);
      return;
    }
    this.track((this.tail ?? Promise.resolve()).then(() => (this.failure === undefined ? run() : undefined)));
  }

  /** Resolves when every queued step has run; rejects with the first step's failure. */
  async drain(): Promise<void> {
    while (this.tail) await this.tail;
    if (this.failure !== undefined) throw this.failure;
  }

  private track(p: Promise<void>): void {
    this.pending++;
    const settled = p.then(
      () => {},
      (err: unknown) => {
        if (this.failure === undefined) this.failure = err;
      },
    );
    const tail = settled.then(() => {
      this.pending--;
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
  }
}
