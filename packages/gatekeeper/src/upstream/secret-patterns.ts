/**
 * The one place the upstream module borrows the secret-pattern redactor (API keys, bearer tokens, JWTs, private
 * keys, the operator's patterns). It lives with the approvals for now; when it moves, only this file changes.
 */
import { Redactor } from '../approvals/redact.js';
import type { GatekeeperConfig } from '../config/schema.js';

/** Replaces secret patterns in a text; a bad configured pattern throws here, at start, naming it. */
export function secretPatternRedactor(patterns: readonly string[] = []): (text: string) => string {
  const redactor = new Redactor([...patterns]);
  return (text) => redactor.text(text);
}

/** The operator's secret patterns (`approvals.redact.patterns`, validated there), for scrubbing upstream errors. */
export function configuredSecretPatterns(config: Pick<GatekeeperConfig, 'approvals'>): string[] {
  const patterns = (config.approvals as { redact?: { patterns?: unknown } } | undefined)?.redact?.patterns;
  return Array.isArray(patterns) ? patterns.filter((p): p is string => typeof p === 'string') : [];
}
