/** Digests that bind approvals and ledger records to the exact action (RFC 8785 canonical JSON, SHA-256). */
import { canonicalJson, sha256Hex } from '@oagf/ledger';

/** Members set to `undefined` count as absent, as in JSON; anything else I-JSON cannot carry throws. */
export function digestOf(value: unknown): string {
  let text: string;
  try {
    text = canonicalJson(value);
  } catch (err) {
    if (!/is undefined$/.test((err as Error).message)) throw err;
    text = canonicalJson(JSON.parse(JSON.stringify(value)));
  }
  return `sha256:${sha256Hex(text)}`;
}
