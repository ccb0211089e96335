#!/usr/bin/env node
import { ledgerCommand } from './commands.js';

ledgerCommand()
  .name('ledger')
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`ledger: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
