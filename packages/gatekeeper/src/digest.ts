/** Digests that bind approvals and ledger records to the exact action (RFC 8785 canonical JSON, SHA-256). */
import { canonicalJson, sha256Hex } from '@oagf/ledger';

export function digestOf(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}
