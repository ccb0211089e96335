/**
 * Asynchronous escalations on MCP: the agent is told a reviewer must approve, and calls the tool again. A model
 * cannot set request metadata, so the gatekeeper remembers which approval it opened for this agent and this exact
 * call (tool and canonical arguments) and retries with it. That grants nothing: the approval is still bound to the
 * action digest and the agent, and is used once.
 */
import { digestOf } from '../../digest.js';
import type { OagfAction } from '../../spec/index.js';

export class RetryBook {
  private readonly pending = new Map<string, string>();

  constructor(private readonly max = 10_000) {}

  key(agent: string, action: OagfAction): string {
    return `${agent}\n${digestOf({ target: action.target, arguments: action.arguments ?? null })}`;
  }

  get(key: string): string | undefined {
    return this.pending.get(key);
  }

  remember(key: string, approval: string): void {
    this.pending.delete(key);
    this.pending.set(key, approval);
    if (this.pending.size > this.max) this.pending.delete(this.pending.keys().next().value!);
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
