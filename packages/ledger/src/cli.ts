#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { ledgerCommand } from './commands.js';

// src/ and dist/ both sit one level below the package root.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

// `ledger export db | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

ledgerCommand()
  .name('ledger')
  .version(version, '-V, --version', 'print the version')
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`ledger: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
