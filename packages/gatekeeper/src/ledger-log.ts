/** Opens the configured ledger and adapts it to the gate's DecisionLog seam. */
import { readFileSync } from 'node:fs';
import { canonicalJson, openLedger, type Ledger } from '@oagf/ledger';
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
    ...(config.checkpoint_every ? { checkpointEvery: config.checkpoint_every } : {}),
  });
}

export function ledgerDecisionLog(ledger: Ledger): DecisionLog {
  return {
    async append(record, payloads) {
      const bytes: Record<string, string | Uint8Array> = {};
      for (const [name, value] of Object.entries(payloads)) {
        bytes[name] = typeof value === 'string' || value instanceof Uint8Array ? value : canonicalJson(value);
      }
      const { index } = await ledger.append(record, bytes);
      return { index };
    },
  };
}
