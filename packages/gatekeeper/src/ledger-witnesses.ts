/**
 * `ledger.witnesses`: every new checkpoint goes to each configured C2SP tlog-witness with a consistency proof from
 * the size it last cosigned, and /ledger/checkpoint serves the checkpoint with the cosignatures obtained. A refusal
 * means the witness cosigned a tree this ledger does not extend (a rewrite, a rollback, a split view): it is logged
 * as an error and counted, for an operator to look at; decisions go on, since the ledger itself is intact.
 */
import { WitnessRefusal, witnessCheckpoints, type Ledger, type WitnessedLog, type WitnessEndpoint } from '@oagf/ledger';
import { Counter } from 'prom-client';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export function witnessLedger(ledger: Ledger, witnesses: WitnessEndpoint[], logger: Logger, metrics: Metrics): WitnessedLog | undefined {
  if (witnesses.length === 0) return undefined;
  const failures = new Counter({
    name: 'gatekeeper_witness_failures_total',
    help: 'Checkpoints a witness did not cosign, by witness and reason (refused: it holds a tree this ledger does not extend; unreachable)',
    labelNames: ['witness', 'reason'] as const,
    registers: [metrics.registry],
  });
  return witnessCheckpoints(ledger, {
    witnesses,
    onError(witness, error) {
      const refused = error instanceof WitnessRefusal;
      failures.inc({ witness, reason: refused ? 'refused' : 'unreachable' });
      if (refused) logger.error({ witness, status: error.status, problem: error.message }, 'witness refused the ledger checkpoint');
      else logger.warn({ witness, problem: error.message }, 'witness unreachable; the next checkpoint is sent again');
    },
  });
}
