/**
 * Reads `POST /v1/sandbox/executions` into the `sandbox.exec` action. The action carries what the policy needs to
 * judge the code before anything runs — the code itself (text languages; a binary by digest and size), its
 * arguments and environment, input files by digest and size, the limits, the hosts it asks to reach — and the
 * execution is later rebuilt from the judged action (run.ts), taking from the request only the bytes whose
 * digests the action names.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ExecutionDescription, Sandbox } from '@oagf/sandbox';
import type { OagfAction } from '../../spec/index.js';

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

const File = z
  .strictObject({
    path: z.string().min(1),
    content: z.string().optional(),
    content_base64: Base64.optional(),
    executable: z.boolean().default(false),
  })
  .refine((f) => (f.content === undefined) !== (f.content_base64 === undefined), 'give exactly one of content or content_base64');

export const ExecutionBody = z
  .strictObject({
    language: z.enum(['python', 'javascript', 'shell', 'binary']),
    /** Source text (python, javascript, shell). */
    code: z.string().optional(),
    /** The program bytes (binary). */
    code_base64: Base64.optional(),
    args: z.array(z.string()).default([]),
    stdin: z.string().optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names only'), z.string()).default({}),
    files: z.array(File).default([]),
    outputs: z.array(z.string().min(1)).default([]),
    cwd: z.string().optional(),
    limits: z.record(z.string(), z.number()).default({}),
    network: z.strictObject({ allow: z.array(z.string().min(1)).default([]) }).prefault({}),
  })
  .refine((b) => (b.language === 'binary' ? b.code_base64 !== undefined && b.code === undefined : b.code !== undefined && b.code_base64 === undefined), {
    message: 'text languages send `code`, a binary sends `code_base64`',
  });

export type ExecutionBody = z.output<typeof ExecutionBody>;

export interface SandboxRequest {
  action: OagfAction;
  /** Code and file contents by sha256 (hex): the only thing the execution takes from the request itself. */
  contents: Map<string, Buffer>;
  stdin?: string;
}

/** Builds the action; `describe` validates the request as the sandbox will run it (limits, paths, hosts). */
export function readExecution(body: ExecutionBody, sandbox: Sandbox, driver: string): SandboxRequest {
  const code = body.language === 'binary' ? Buffer.from(body.code_base64!, 'base64') : Buffer.from(body.code!, 'utf8');
  const contents = new Map<string, Buffer>([[sha256(code), code]]);
  const files = body.files.map((f) => {
    const bytes = f.content_base64 !== undefined ? Buffer.from(f.content_base64, 'base64') : Buffer.from(f.content!, 'utf8');
    contents.set(sha256(bytes), bytes);
    return { path: f.path, content: bytes, executable: f.executable };
  });
  const description: ExecutionDescription = sandbox.describe({
    language: body.language,
    code,
    args: body.args,
    ...(body.stdin !== undefined ? { stdin: body.stdin } : {}),
    env: body.env,
    files,
    outputs: body.outputs,
    ...(body.cwd !== undefined ? { cwd: body.cwd } : {}),
    limits: body.limits,
    network: { allow: body.network.allow },
  });
  const action: OagfAction = {
    kind: 'sandbox.exec',
    target: { language: description.language, driver: description.driver || driver },
    arguments: {
      ...(body.language !== 'binary' ? { code: body.code } : {}),
      code_sha256: description.code.sha256,
      code_bytes: description.code.bytes,
      args: description.args,
      ...(body.stdin !== undefined ? { stdin: body.stdin } : {}),
      // Judged with their values (what runs is what was judged); secrets among them are redacted before the ledger.
      env: body.env,
      files: description.files,
      outputs: description.outputs,
      cwd: description.cwd,
      limits: description.limits,
      network: { allow: description.network.allow },
    },
  };
  return { action, contents, ...(body.stdin !== undefined ? { stdin: body.stdin } : {}) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
