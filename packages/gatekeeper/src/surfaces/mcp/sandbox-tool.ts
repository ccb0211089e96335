/**
 * The sandbox as an MCP tool: with `sandbox:` configured, the aggregate endpoint `/mcp` offers `sandbox<separator>run`
 * beside the upstream servers' tools. A call is read exactly as `POST /v1/sandbox/executions` reads its body (the
 * same zod schema, the same `sandbox.exec` action) and carried out by the same run step (SandboxService.run): decided
 * before anything runs, held or answered as pending like every MCP call, its outcome recorded. The agent gets
 * stdout, stderr and the exit status as text, the whole outcome as structuredContent.
 */
import { ProtocolError, ProtocolErrorCode, type CallToolResult, type Tool } from '@modelcontextprotocol/server';
import { SandboxError, type ExecutionOutcome } from '@oagf/sandbox';
import { z } from 'zod';
import { answer } from '../sandbox/run.js';
import { ExecutionBody } from '../sandbox/request.js';
import type { SandboxService } from '../sandbox/service.js';
import type { CatalogTool } from './catalog.js';
import type { PinBook } from './pins.js';
import { McpUnavailable } from './upstream.js';

/** The server name the tool is listed under (and its prefix on `/mcp`); no `mcp.servers` entry may take it. */
export const SANDBOX_SERVER = 'sandbox';
export const SANDBOX_TOOL = 'run';

const DEFINITION: Tool = {
  name: SANDBOX_TOOL,
  title: 'Run code in the sandbox',
  description:
    'Runs python, javascript or shell code (or an uploaded binary) isolated in the gatekeeper\'s sandbox: no network unless ' +
    '`network.allow` lists host:port destinations, limited time, memory and output. The policy decides each run before it starts; ' +
    'a run that needs a human approval waits for it. Returns stdout, stderr and the exit status.',
  inputSchema: z.toJSONSchema(ExecutionBody, { io: 'input', unrepresentable: 'any' }) as Tool['inputSchema'],
  // Running code changes nothing on the host (that is the sandbox's job); it may reach the hosts it lists.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
};

export class SandboxTool {
  constructor(
    readonly service: SandboxService,
    private readonly pins: PinBook,
  ) {}

  /** As listed: pinned like an upstream tool, so a changed definition is as visible to an auditor. */
  async listed(): Promise<CatalogTool> {
    return { server: SANDBOX_SERVER, definition: DEFINITION, ...(await this.pins.check(SANDBOX_SERVER, DEFINITION)) };
  }

  /** The `sandbox.exec` request of a call's arguments; bad arguments are the client's error (invalid params). */
  read(args: Record<string, unknown>) {
    const parsed = ExecutionBody.safeParse(args);
    if (!parsed.success) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `invalid ${SANDBOX_SERVER}.${SANDBOX_TOOL} arguments: ${z.prettifyError(parsed.error)}`);
    try {
      return this.service.read(parsed.data);
    } catch (err) {
      if (err instanceof SandboxError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `invalid execution: ${err.message}`);
      throw err;
    }
  }
}

/** A sandbox that cannot take the run (queue full, driver failure) fails the call with its reason. */
export function sandboxFailure(err: unknown): unknown {
  return err instanceof SandboxError ? new McpUnavailable(`the sandbox could not run it: ${err.message}`) : err;
}

/** The outcome as a tool result: what the code printed, its exit status; a run that did not exit cleanly is an error result. */
export function outcomeResult(outcome: ExecutionOutcome, recordId: string): CallToolResult {
  const status = outcome.status === 'exited' ? `exit code ${outcome.exitCode}` : `${outcome.status}${outcome.limitsReached.length ? ` (${outcome.limitsReached.join(', ')})` : ''}`;
  const content: CallToolResult['content'] = [{ type: 'text', text: `status: ${status}` }];
  if (outcome.stdoutText) content.push({ type: 'text', text: `stdout:\n${outcome.stdoutText}` });
  if (outcome.stderrText) content.push({ type: 'text', text: `stderr:\n${outcome.stderrText}` });
  return {
    content,
    structuredContent: answer(outcome, recordId),
    ...(outcome.status !== 'exited' || outcome.exitCode !== 0 ? { isError: true } : {}),
  };
}
