/** Public data types of @oagf/sandbox: what an execution asks for, how it is described before it runs, and its outcome. */

export type Language = 'python' | 'javascript' | 'shell' | 'binary';
export type DriverName = 'bwrap' | 'gvisor' | 'microvm';

/** Every limit is enforced, or the execution is refused (see SandboxOptions.allowUnenforcedLimits). */
export interface Limits {
  /** Wall-clock time from the start of the code; the whole process tree is killed when it runs out. */
  wallTimeMs: number;
  /** CPU time of the whole process tree (user + system). */
  cpuTimeMs: number;
  /** CPU bandwidth in cores (CFS quota), e.g. 0.5 = half a core. */
  cpuCores: number;
  /** Memory of the whole tree, page cache and tmpfs included; no swap. */
  memoryBytes: number;
  /** Processes and threads alive at once. */
  pids: number;
  /** Size of each writable file system: the work dir and /tmp. */
  diskBytes: number;
  /** stdout and stderr together. */
  outputBytes: number;
  /** Open file descriptors per process. */
  openFiles: number;
  /** Output files collected after the run, in total; files past it are skipped (listed with the reason). */
  outputFilesBytes: number;
}

export interface InputFile {
  /** Relative path under the work dir, '/'-separated, no '..'. */
  path: string;
  content: Uint8Array | string;
  executable?: boolean;
}

export interface NetworkRequest {
  /**
   * Allowed destinations: `host:port`, `*.domain:port` (any subdomain, not the domain itself), `host` (ports 80 and
   * 443), port `*` for any port, IP literals (`10.0.0.5:8080`, `[::1]:443`).
   */
  allow: string[];
  /**
   * CIDR ranges that resolved addresses may fall in although they are loopback, private, link-local or otherwise
   * special (by default those are refused even for an allowed name).
   */
  allowPrivateRanges?: string[];
}

export interface ExecutionRequest {
  language: Language;
  /** Source text, or the program bytes for `binary` (a static or /usr-linked ELF). */
  code: string | Uint8Array;
  /** Arguments after the program. */
  args?: string[];
  stdin?: string | Uint8Array;
  /** The only environment the code sees, besides PATH, HOME, TMPDIR, LANG and the proxy variables. */
  env?: Record<string, string>;
  files?: InputFile[];
  /** Paths (relative to the work dir; a trailing `/` takes a directory's regular files recursively) to collect. */
  outputs?: string[];
  /** Working directory relative to the work dir (created if missing); default the work dir itself. */
  cwd?: string;
  limits?: Partial<Limits>;
  network?: NetworkRequest;
  /** Override the sandbox's default driver. */
  driver?: DriverName;
}

/** A pure-data description of an execution, known before anything runs: the input of a policy decision. */
export interface ExecutionDescription {
  driver: DriverName;
  language: Language;
  code: { sha256: string; bytes: number };
  args: string[];
  stdin: { sha256: string; bytes: number } | null;
  env: string[];
  files: { path: string; sha256: string; bytes: number; executable: boolean }[];
  outputs: string[];
  cwd: string;
  limits: Limits;
  network: { allow: string[]; allowPrivateRanges: string[] };
}

export type ExecutionStatus =
  /** The code ran to its own end (any exit code); no limit stopped it. */
  | 'exited'
  | 'timeout'
  | 'cpu_limit'
  | 'oom'
  | 'pids_limit'
  | 'disk_limit'
  | 'output_limit'
  | 'cancelled'
  /** The sandbox itself failed (never the code's fault); see `error`. */
  | 'error';

export type LimitName = 'wallTime' | 'cpuTime' | 'memory' | 'pids' | 'disk' | 'output';

export interface EgressAttempt {
  /** ISO time of the attempt. */
  time: string;
  kind: 'connect' | 'http';
  host: string;
  port: number;
  /** For `http`: method and URL as asked. */
  method?: string;
  url?: string;
  decision: 'allowed' | 'denied';
  /** Why it was denied (or 'allowlisted'). */
  reason: string;
  /** The address actually connected to (allowed attempts), or the one refused. */
  address?: string;
  /** Bytes from the sandbox to the upstream and back (allowed attempts, counted when the connection ends). */
  bytesUp?: number;
  bytesDown?: number;
  /** Upstream connection error, if any. */
  error?: string;
}

export interface OutputFile {
  path: string;
  bytes: number;
  sha256: string;
  content: Buffer;
}

export interface SkippedOutput {
  path: string;
  reason: 'missing' | 'not_regular' | 'too_large' | 'total_too_large';
}

export interface StreamSummary {
  bytes: number;
  sha256: string;
  /** True when the stream was cut at the output limit. */
  truncated: boolean;
}

export interface Usage {
  wallMs: number;
  /** null when no cgroup measured it (unenforced mode). */
  cpuMs: number | null;
  maxMemoryBytes: number | null;
}

/** The record a governance layer keeps of one execution. */
export interface ExecutionOutcome {
  id: string;
  driver: DriverName;
  status: ExecutionStatus;
  /** Exit code of the program (128 + signal number when a signal ended it, shell convention); null if it never ended by itself. */
  exitCode: number | null;
  /** Every limit that was reached, also those that did not end the run (e.g. pids while forks failed). */
  limitsReached: LimitName[];
  usage: Usage;
  stdout: StreamSummary;
  stderr: StreamSummary;
  /** The full captured streams (up to the output limit). */
  stdoutText: string;
  stderrText: string;
  files: OutputFile[];
  skippedOutputs: SkippedOutput[];
  egress: EgressAttempt[];
  description: ExecutionDescription;
  /** Limits that were not enforced (allowUnenforcedLimits) and other notes worth keeping. */
  warnings: string[];
  /** For status `error`. */
  error?: string;
  startedAt: string;
  finishedAt: string;
}

export interface DriverStatus {
  name: DriverName;
  available: boolean;
  /** Why it is unavailable, or what it runs on. */
  reason: string;
}
