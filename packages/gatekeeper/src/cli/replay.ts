/** `gatekeeper replay --ledger <db> --policy <dir...> [--session <id>]` */
import { Command } from 'commander';
import { readBundle } from '../policy/bundle.js';
import { compileBundle } from '../policy/rego.js';
import { formatReplay, replay } from '../replay/replay.js';

export function replayCommand(): Command {
  return new Command('replay')
    .description('re-decide every recorded action under a candidate policy and show what would change')
    .requiredOption('-l, --ledger <db>', 'ledger database (opened read-only)')
    .requiredOption('-p, --policy <dirs...>', 'candidate policy bundle directories')
    .option('-n, --sample <n>', 'changed decisions to show', (v) => Number.parseInt(v, 10), 20)
    .option('-s, --session <id>', 'replay one session (its OAGF-Session id) and list its decisions in order')
    .option('--json', 'print the report as JSON')
    .action((options: { ledger: string; policy: string[]; sample: number; session?: string; json?: boolean }) => {
      const evaluator = compileBundle(readBundle(options.policy), { maxSteps: 10_000_000, timeoutMs: 5_000, explain: 'none' });
      const report = replay(options.ledger, evaluator, { sample: options.sample, ...(options.session !== undefined ? { session: options.session } : {}) });
      console.log(options.json ? JSON.stringify(report, null, 2) : formatReplay(report));
    });
}
