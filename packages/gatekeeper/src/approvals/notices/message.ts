/** The facts every notice shows, taken once from an approval so the three formats say the same thing. */
import { describeRequirement, formatAmount } from '../service.js';
import type { Approval } from '../types.js';

export interface NoticeFacts {
  title: string;
  agent: string;
  owner?: string;
  chain: string[];
  action: string;
  amount?: string;
  reasons: string[];
  approvers: string;
  expires: string;
  url: string;
}

export function noticeFacts(a: Approval, consoleUrl: string): NoticeFacts {
  const agent = (a.input as { agent?: { delegation?: { agent: string }[] } }).agent;
  const reasons = (a.decision as { reasons?: string[] }).reasons ?? [];
  return {
    title: `Approval needed: ${a.summary}`,
    agent: a.agentId,
    ...(a.agentOwner ? { owner: a.agentOwner } : {}),
    chain: [...(agent?.delegation ?? []).map((h) => h.agent), a.agentId],
    action: a.summary,
    ...(a.amount ? { amount: formatAmount(a.amount) } : {}),
    reasons,
    approvers: describeRequirement(a.required),
    expires: a.expiresAt,
    url: `${consoleUrl.replace(/\/$/, '')}/requests/${encodeURIComponent(a.id)}`,
  };
}
