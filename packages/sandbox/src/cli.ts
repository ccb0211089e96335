#!/usr/bin/env node
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { createSandbox } from './sandbox.js';
import type { ExecutionRequest, Language, Limits } from './types.js';

const LANGUAGES: Language[] = ['python', 'javascript', 'shell', 'binary'];
const collect = (value: string, previous: string[]) => [...previous, value];
const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
};

/** `sandbox run`: exit code of the program; 124 for a limit or cancellation, 125 when the sandbox itself failed. */
function runCommand(): Command {
  return new Command('run')
    .description('run a file in the sandbox and stream its output')
    .argument('<file>', 'program: source file, or an executable for --lang binary')
    .argument('[args...]', 'arguments for the program')
    .addOption(new Option('--lang <language>', 'language').choices(LANGUAGES).makeOptionMandatory())
    .option('--allow-net <host:port>', 'allow egress to host:port (repeatable; *.domain, port *)', collect, [])
    .option('--allow-private <cidr>', 'allow resolved addresses in a private/loopback range (repeatable)', collect, [])
    .option('--file <path[=sandboxPath]>', 'copy a host file into the work dir (repeatable)', collect, [])
    .option('--out <path>', 'collect a work-dir file (or dir/) after the run (repeatable)', collect, [])
    .option('--out-dir <dir>', 'where collected files are written', '.')
    .option('--stdin', 'pass this process\'s stdin to the program')
    .option('--timeout <ms>', 'wall time limit', positiveInt('--timeout'))
    .option('--memory <MiB>', 'memory limit', positiveInt('--memory'))
    .option('--driver <name>', 'bwrap, gvisor or microvm')
    .option('--allow-unenforced-limits', 'run even where cgroup limits cannot be enforced (prints a warning)')
    .option('--json', 'print the outcome as JSON on stdout after the program output')
    .action(async (file: string, args: string[], opts) => {
      const limits: Partial<Limits> = {};
      if (opts.timeout) limits.wallTimeMs = opts.timeout;
      if (opts.memory) limits.memoryBytes = opts.memory * 1024 * 1024;
      const request: ExecutionRequest = {
        language: opts.lang,
        code: opts.lang === 'binary' ? readFileSync(file) : readFileSync(file, 'utf8'),
        args,
        files: (opts.file as string[]).map((spec) => {
          const [host, inside] = spec.split('=');
          return { path: inside ?? basename(host!), content: readFileSync(host!) };
        }),
        outputs: opts.out,
        limits,
        ...(opts.stdin ? { stdin: readFileSync(0) } : {}),
        ...(opts.allowNet.length ? { network: { allow: opts.allowNet, allowPrivateRanges: opts.allowPrivate } } : {}),
        ...(opts.driver ? { driver: opts.driver } : {}),
      };
      const sandbox = await createSandbox({ allowUnenforcedLimits: Boolean(opts.allowUnenforcedLimits) });
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      try {
        const outcome = await sandbox.run(request, { signal: controller.signal, onStdout: (c) => process.stdout.write(c), onStderr: (c) => process.stderr.write(c) });
        for (const f of outcome.files) {
          const target = join(opts.outDir, f.path);
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, f.content);
        }
        for (const w of outcome.warnings) process.stderr.write(`sandbox: warning: ${w}\n`);
        for (const a of outcome.egress) process.stderr.write(`sandbox: egress ${a.decision} ${a.kind} ${a.host}:${a.port}${a.decision === 'denied' ? ` (${a.reason})` : ''}\n`);
        const cpu = outcome.usage.cpuMs === null ? 'n/a' : `${Math.round(outcome.usage.cpuMs)} ms`;
        process.stderr.write(`sandbox: ${outcome.status}${outcome.exitCode !== null ? ` (exit ${outcome.exitCode})` : ''}, wall ${Math.round(outcome.usage.wallMs)} ms, cpu ${cpu}${outcome.error ? `: ${outcome.error}` : ''}\n`);
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...outcome, files: outcome.files.map(({ content: _content, ...f }) => f) })}\n`);
        process.exitCode = outcome.status === 'exited' ? outcome.exitCode! : outcome.status === 'error' ? 125 : 124;
      } finally {
        await sandbox.close();
      }
    });
}

function driversCommand(): Command {
  return new Command('drivers').description('say which drivers can run on this host, and why not').action(async () => {
    const sandbox = await createSandbox({ allowUnenforcedLimits: true });
    try {
      for (const d of await sandbox.drivers()) process.stdout.write(`${d.name}\t${d.available ? 'available' : 'unavailable'}\t${d.reason}\n`);
    } finally {
      await sandbox.close();
    }
  });
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

new Command('sandbox')
  .description('run agent code isolated (@oagf/sandbox)')
  .version(version)
  .addCommand(runCommand())
  .addCommand(driversCommand())
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
