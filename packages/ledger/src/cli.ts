#!/usr/bin/env node
import { ledgerCommand } from './commands.js';

// `ledger export db | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

ledgerCommand()
  .name('ledger')
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`ledger: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
