import type { NormalizedRequest } from '../request.js';
import type { DriverName, DriverStatus, ExecutionDescription, ExecutionOutcome } from '../types.js';

export interface RunContext {
  id: string;
  request: NormalizedRequest;
  description: ExecutionDescription;
  signal: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** One isolation technology. `probe` says honestly whether it can run here; `run` never throws for the code's faults. */
export interface Driver {
  readonly name: DriverName;
  probe(): Promise<DriverStatus>;
  /** Throws `invalid_request` for what this driver cannot run as asked (checked before any policy sees it). */
  check?(request: NormalizedRequest): void;
  run(context: RunContext): Promise<ExecutionOutcome>;
  /** Waits for host-side cleanup still running after outcomes were given (e.g. cgroup removal). */
  close?(): Promise<void>;
}
