/** Opens the configured ledger and adapts it to the gate's DecisionLog seam. */
import { readFileSync } from 'node:fs';
import { openLedger, type Ledger } from '@oagf/ledger';
import type { GatekeeperConfig } from './config/schema.js';
import type { DecisionLog } from './decision-log.js';

export async function openConfiguredLedger(config: GatekeeperConfig['ledger']): Promise<Ledger> {
  let signingKey: string;
  try {
    signingKey = readFileSync(config.signing_key_file, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `ledger.signing_key_file: cannot read ${config.signing_key_file} (${(err as Error).message}); create one with \`gatekeeper ledger keygen\``,
    );
  }
  return openLedger({
    path: config.path,
    origin: config.origin,
    signingKey,
    durability: config.durability,
    ...(config.checkpoint_every ? { checkpointEvery: config.checkpoint_every } : {}),
  });
}

export function ledgerDecisionLog(ledger: Ledger): DecisionLog {
  return {
    async append(record, payloads) {
      // Payloads are committed by the digest of their exact bytes, so plain JSON serves (and is ~20x cheaper than
      // canonical JSON on the hot path); only the record itself needs the canonical form, which the ledger applies.
      const bytes: Record<string, string | Uint8Array> = {};
      for (const [name, value] of Object.entries(payloads)) {
        bytes[name] = typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value);
      }
      const { index } = await ledger.append(record, bytes);
      return { index };
    },
  };
}
