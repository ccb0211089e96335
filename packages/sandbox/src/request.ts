import { z } from 'zod';
import { sha256, toBytes } from './digest.js';
import { SandboxError } from './errors.js';
import { parseAllowRule, parseCidr } from './egress/allowlist.js';
import type { DriverName, ExecutionDescription, ExecutionRequest, InputFile, Limits } from './types.js';

export const DEFAULT_LIMITS: Limits = {
  wallTimeMs: 10_000,
  cpuTimeMs: 10_000,
  cpuCores: 1,
  memoryBytes: 256 * 1024 * 1024,
  pids: 64,
  diskBytes: 64 * 1024 * 1024,
  outputBytes: 1024 * 1024,
  openFiles: 256,
  outputFilesBytes: 16 * 1024 * 1024,
};

/** Upper bounds a request may ask for; a sandbox can lower them (SandboxOptions.maxLimits). */
export const MAX_LIMITS: Limits = {
  wallTimeMs: 3_600_000,
  cpuTimeMs: 3_600_000,
  cpuCores: 64,
  memoryBytes: 64 * 1024 ** 3,
  pids: 4096,
  diskBytes: 64 * 1024 ** 3,
  outputBytes: 1024 ** 3,
  openFiles: 65_536,
  outputFilesBytes: 1024 ** 3,
};

const MAX_FILES = 1000;
const RESERVED_ENV = /^(OAGF_|HTTPS?_PROXY$|https?_proxy$|ALL_PROXY$|all_proxy$|NO_PROXY$|no_proxy$)/;

const bytes = z.union([z.string(), z.instanceof(Uint8Array)]);

/** '/'-separated, relative, no '.', '..' or empty segments: it can only name something under the work dir. */
export const relativePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && s.length <= 255), {
    message: "must be a relative path without '.', '..', empty segments or NUL",
  });

const outputPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => relativePath.safeParse(p.endsWith('/') ? p.slice(0, -1) : p).success, {
    message: "must be a relative path (a trailing '/' for a directory) without '.', '..' or empty segments",
  });

const limitsSchema = z
  .object({
    wallTimeMs: z.number().int().positive(),
    cpuTimeMs: z.number().int().positive(),
    cpuCores: z.number().positive(),
    memoryBytes: z.number().int().min(16 * 1024 * 1024),
    pids: z.number().int().min(4),
    diskBytes: z.number().int().min(64 * 1024),
    outputBytes: z.number().int().positive(),
    openFiles: z.number().int().min(16),
    outputFilesBytes: z.number().int().nonnegative(),
  })
  .partial()
  .strict();

const requestSchema = z
  .object({
    language: z.enum(['python', 'javascript', 'shell', 'binary']),
    code: bytes,
    args: z.array(z.string().refine((a) => !a.includes('\0'), 'must not contain NUL')).max(1000).optional(),
    stdin: bytes.optional(),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _').refine((n) => !RESERVED_ENV.test(n), 'reserved name'),
        z.string().refine((v) => !v.includes('\0'), 'must not contain NUL'),
      )
      .optional(),
    files: z
      .array(z.object({ path: relativePath, content: bytes, executable: z.boolean().optional() }).strict())
      .max(MAX_FILES)
      .optional(),
    outputs: z.array(outputPath).max(MAX_FILES).optional(),
    cwd: z.union([z.literal('.'), relativePath]).optional(),
    limits: limitsSchema.optional(),
    network: z
      .object({
        allow: z.array(z.string().max(300)).max(256),
        allowPrivateRanges: z.array(z.string().max(64)).max(64).optional(),
      })
      .strict()
      .optional(),
    driver: z.enum(['bwrap', 'gvisor', 'microvm']).optional(),
  })
  .strict();

/** A validated request with every default filled in and bytes as Buffers. */
export interface NormalizedRequest {
  driver: DriverName;
  language: ExecutionRequest['language'];
  code: Buffer;
  args: string[];
  stdin: Buffer | null;
  env: Record<string, string>;
  files: { path: string; content: Buffer; executable: boolean }[];
  outputs: string[];
  cwd: string;
  limits: Limits;
  network: { allow: string[]; allowPrivateRanges: string[] };
}

export interface NormalizeOptions {
  defaultDriver: DriverName;
  defaultLimits: Limits;
  maxLimits: Limits;
  maxInputBytes: number;
}

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
}

function checkFiles(files: InputFile[], maxInputBytes: number): NormalizedRequest['files'] {
  const seen = new Set<string>();
  let total = 0;
  return files.map((f) => {
    if (seen.has(f.path)) throw new SandboxError('invalid_request', `files: ${f.path} is given twice`);
    const parentClash = [...seen].find((p) => p.startsWith(`${f.path}/`) || f.path.startsWith(`${p}/`));
    if (parentClash) throw new SandboxError('invalid_request', `files: ${f.path} and ${parentClash} cannot both be files`);
    seen.add(f.path);
    const content = toBytes(f.content);
    total += content.byteLength;
    if (total > maxInputBytes) throw new SandboxError('invalid_request', `files: more than ${maxInputBytes} bytes in total`);
    return { path: f.path, content, executable: f.executable ?? false };
  });
}

export function normalizeRequest(input: unknown, options: NormalizeOptions): NormalizedRequest {
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) throw new SandboxError('invalid_request', issuesText(parsed.error));
  const r = parsed.data;
  const limits: Limits = { ...options.defaultLimits, ...r.limits };
  for (const [name, value] of Object.entries(limits) as [keyof Limits, number][]) {
    if (value > options.maxLimits[name]) throw new SandboxError('invalid_request', `limits.${name}: ${value} is above the maximum ${options.maxLimits[name]}`);
  }
  const allow = r.network?.allow ?? [];
  for (const rule of allow) parseAllowRule(rule);
  const allowPrivateRanges = r.network?.allowPrivateRanges ?? [];
  for (const range of allowPrivateRanges) parseCidr(range);
  if (allowPrivateRanges.length > 0 && allow.length === 0) throw new SandboxError('invalid_request', 'network.allowPrivateRanges needs network.allow');
  const code = toBytes(r.code);
  const files = checkFiles(r.files ?? [], options.maxInputBytes);
  const inputBytes = code.byteLength + files.reduce((n, f) => n + f.content.byteLength, 0);
  if (inputBytes > limits.diskBytes) throw new SandboxError('invalid_request', `code and files (${inputBytes} bytes) do not fit in limits.diskBytes (${limits.diskBytes})`);
  return {
    driver: r.driver ?? options.defaultDriver,
    language: r.language,
    code,
    args: r.args ?? [],
    stdin: r.stdin === undefined ? null : toBytes(r.stdin),
    env: r.env ?? {},
    files,
    outputs: r.outputs ?? [],
    cwd: r.cwd ?? '.',
    limits,
    network: { allow, allowPrivateRanges },
  };
}

export function describeNormalized(r: NormalizedRequest): ExecutionDescription {
  return {
    driver: r.driver,
    language: r.language,
    code: { sha256: sha256(r.code), bytes: r.code.byteLength },
    args: r.args,
    stdin: r.stdin ? { sha256: sha256(r.stdin), bytes: r.stdin.byteLength } : null,
    env: Object.keys(r.env).sort(),
    files: r.files.map((f) => ({ path: f.path, sha256: sha256(f.content), bytes: f.content.byteLength, executable: f.executable })),
    outputs: r.outputs,
    cwd: r.cwd,
    limits: r.limits,
    network: r.network,
  };
}
