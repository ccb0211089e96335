/**
 * Carries out an allowed `sandbox.exec`: the execution request is rebuilt from the judged action — language, code
 * (or the binary whose digest it names), arguments, stdin, environment, files by digest, outputs, limits, hosts —
 * and run in the sandbox (runJudged: one run step for the HTTP surface and the MCP tool; each renders the outcome in
 * its protocol). The outcome record keeps the facts an auditor needs: status, exit code,
 * limits reached, usage, every egress attempt, digests of what came out.
 */
import type { ServerResponse } from 'node:http';
import type { ExecutionOutcome, ExecutionRequest, Sandbox } from '@oagf/sandbox';
import type { Executed, ExecutionContext } from '../../gate/index.js';
import { GateHttpError } from '../../http/errors.js';
import { sendJson } from '../../http/router.js';
import type { Counter } from 'prom-client';
import type { SandboxRequest } from './request.js';
import type { SandboxService } from './service.js';

interface Judged {
  code?: string;
  code_sha256: string;
  args: string[];
  stdin?: string;
  env: Record<string, string>;
  files: { path: string; sha256: string; executable: boolean }[];
  outputs: string[];
  cwd: string;
  limits: ExecutionRequest['limits'];
  network: { allow: string[] };
}

/** How the surface watches the run: cancellation, and the output as it comes (streaming answers). */
export interface RunHooks {
  signal: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/**
 * The one run step both surfaces use (HTTP, and the MCP tool `sandbox__run`): the execution rebuilt from the judged
 * action, run, counted, and the outcome with what the lifecycle records of it. Rendering it is the surface's job.
 */
export async function runJudged(
  sandbox: Sandbox,
  request: SandboxRequest,
  judged: ExecutionContext,
  hooks: RunHooks,
  executions: Counter<'status'>,
): Promise<Executed<ExecutionOutcome>> {
  const a = judged.action.arguments as Judged;
  const bytes = (sha: string) => {
    const found = request.contents.get(sha);
    if (!found) throw new GateHttpError('gatekeeper_fault', `the judged execution names content ${sha} the request did not carry`);
    return found;
  };
  const execution: ExecutionRequest = {
    language: judged.action.target.language as ExecutionRequest['language'],
    code: a.code ?? bytes(a.code_sha256),
    args: a.args,
    ...(a.stdin !== undefined ? { stdin: a.stdin } : {}),
    env: a.env,
    files: a.files.map((f) => ({ path: f.path, content: bytes(f.sha256), executable: f.executable })),
    outputs: a.outputs,
    cwd: a.cwd,
    limits: a.limits,
    network: { allow: a.network.allow },
    driver: judged.action.target.driver as ExecutionRequest['driver'],
  };
  const outcome = await sandbox.run(execution, hooks);
  executions.inc({ status: outcome.status });
  const settlement = outcome.status === 'error' || outcome.status === 'cancelled' ? { release: `execution ${outcome.status}` } : { settle: {} };
  return { value: outcome, settlement, facts: facts(outcome) };
}

/** The HTTP answer: the outcome (JSON), or the output as it comes (server-sent events) for `text/event-stream`. */
export async function runOverHttp(service: SandboxService, request: SandboxRequest, judged: ExecutionContext, res: ServerResponse, stream: boolean): Promise<Executed<undefined>> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  if (stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'oagf-decision-id': judged.recordId });
    res.flushHeaders();
  }
  const event = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  const hooks: RunHooks = {
    signal: abort.signal,
    ...(stream ? { onStdout: (c: Buffer) => event('stdout', { text: c.toString('utf8') }), onStderr: (c: Buffer) => event('stderr', { text: c.toString('utf8') }) } : {}),
  };
  const executed = await service.run(request, judged, hooks);
  const body = answer(executed.value, judged.recordId);
  if (stream) {
    event('outcome', { ...body, stdout: undefined, stderr: undefined });
    res.end();
  } else {
    sendJson(res, 200, body, { 'oagf-decision-id': judged.recordId });
  }
  return { ...executed, value: undefined };
}

/** The outcome as an agent gets it (the HTTP body; the MCP tool's structuredContent). */
export function answer(o: ExecutionOutcome, recordId: string) {
  return {
    record_id: recordId,
    status: o.status,
    exit_code: o.exitCode,
    limits_reached: o.limitsReached,
    usage: o.usage,
    stdout: o.stdoutText,
    stderr: o.stderrText,
    stdout_truncated: o.stdout.truncated,
    stderr_truncated: o.stderr.truncated,
    files: o.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256, content_base64: f.content.toString('base64') })),
    skipped_outputs: o.skippedOutputs,
    egress: o.egress,
    warnings: o.warnings,
    ...(o.error ? { error: o.error } : {}),
  };
}

/** What the ledger keeps of an execution: no output text, its digests. */
function facts(o: ExecutionOutcome): Record<string, unknown> {
  return {
    status: o.status,
    exit_code: o.exitCode,
    limits_reached: o.limitsReached,
    usage: o.usage,
    stdout: o.stdout,
    stderr: o.stderr,
    files: o.files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })),
    egress: o.egress.map((e) => ({ kind: e.kind, host: e.host, port: e.port, decision: e.decision, reason: e.reason, ...(e.address ? { address: e.address } : {}) })),
    ...(o.warnings.length ? { warnings: o.warnings } : {}),
  };
}
