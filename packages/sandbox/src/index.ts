export { createSandbox, type Execution, type RunOptions, type Sandbox, type SandboxOptions } from './sandbox.js';
export { SandboxError, type SandboxErrorCode } from './errors.js';
export { DEFAULT_LIMITS, MAX_LIMITS } from './request.js';
export type { CgroupMode, CgroupOptions } from './cgroups/detect.js';
export type { Resolver } from './egress/proxy.js';
export type { MicrovmOptions } from './drivers/microvm.js';
export type { ReadOnlyMount } from './drivers/bwrap-args.js';
export type { Runtimes } from './runtimes.js';
export type * from './types.js';
