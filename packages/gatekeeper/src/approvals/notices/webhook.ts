/**
 * Generic webhook: a CloudEvents 1.0 event in structured JSON mode, signed with HMAC-SHA256 over the exact body
 * bytes. Receivers check `OAGF-Signature: sha256=<hex>` with their shared secret.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Approval } from '../types.js';
import type { NoticeFacts } from './message.js';

export const SIGNATURE_HEADER = 'oagf-signature';

export function cloudEvent(a: Approval, f: NoticeFacts, source: string): Record<string, unknown> {
  return {
    specversion: '1.0',
    type: 'org.oagf.approval.requested',
    source,
    id: randomUUID(),
    time: new Date().toISOString(),
    subject: a.id,
    datacontenttype: 'application/json',
    data: {
      approval_id: a.id,
      agent: a.agentId,
      ...(a.agentOwner ? { owner: a.agentOwner } : {}),
      chain: f.chain,
      action: a.summary,
      ...(a.amount ? { amount: a.amount } : {}),
      action_digest: a.actionDigest,
      policy_digest: a.policyDigest,
      reasons: f.reasons,
      approvers: a.required,
      expires_at: a.expiresAt,
      escalation: a.escalation,
      url: f.url,
    },
  };
}

export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifySignature(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
