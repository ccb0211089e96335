#!/usr/bin/env node
/** The `gatekeeper` command. Plug-in helpers add their commands to COMMANDS (one line each). */
import { readFileSync } from 'node:fs';
import { ledgerCommand, witnessCommand } from '@oagf/ledger';
import { Command } from 'commander';
import { approvalsCommand } from './approvals/cli.js';
import { hashApiKey } from './auth/agents.js';
import { budgetsCommand } from './budgets/cli.js';
import { policyCommand } from './cli/policy.js';
import { replayCommand } from './cli/replay.js';
import { sandboxCommand } from './cli/sandbox.js';
import { serveCommand } from './cli/serve.js';
import { ConfigError } from './config/load.js';
import { mcpDemoCommand } from './demo/mcp.js';
import { demoCommand } from './demo/run.js';

const COMMANDS: Command[] = [
  serveCommand(),
  policyCommand(),
  ledgerCommand(),
  witnessCommand(),
  replayCommand(),
  new Command('hash-key')
    .description('print the sha256 form of an agent API key for gatekeeper.yaml (agents[].api_keys)')
    .argument('<key>')
    .action((key: string) => console.log(hashApiKey(key))),
  approvalsCommand(),
  demoCommand().enablePositionalOptions().addCommand(mcpDemoCommand()),
  budgetsCommand(),
  sandboxCommand(),
];

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('gatekeeper')
  .description('OAGF gatekeeper: every agent action decided by policy, recorded in a signed ledger, then carried out')
  .version(version, '-V, --version')
  .showHelpAfterError()
  // Options after a subcommand belong to it (`demo mcp --auto approve` is the MCP demo's --auto, not the keynote's).
  .enablePositionalOptions();
for (const command of COMMANDS) program.addCommand(command);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Expected failures (bad config, bundle that does not compile, unreadable file) print their message, not a stack,
  // and end the process: nothing left open (a timer, a watcher) may keep a failed command alive.
  const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
  console.error(`gatekeeper: ${message}`);
  process.exit(1);
});
