/**
 * `gatekeeper sandbox run --lang python file.py [--allow-net host:port ...] [--url URL] [--key KEY]`: runs agent
 * code through a running gatekeeper, as an agent would — decided by policy, recorded in the ledger, then run in the
 * sandbox. Prints the program's output; exits with its exit code (124 for a limit, 1 when the gatekeeper refused).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';

interface Options {
  lang: string;
  allowNet: string[];
  url: string;
  key?: string;
  arg: string[];
  stdin?: string;
  approval?: string;
}

export function sandboxCommand(): Command {
  const sandbox = new Command('sandbox').description('agent code execution through the gatekeeper');
  sandbox
    .command('run')
    .description('run a file in the sandbox through a running gatekeeper (POST /v1/sandbox/executions)')
    .argument('<file>', 'the code (or the binary, with --lang binary)')
    .addOption(new Option('--lang <language>', 'language of the file').choices(['python', 'javascript', 'shell', 'binary']).makeOptionMandatory())
    .option('--allow-net <host:port>', 'a host the code may reach (repeatable)', collect, [])
    .option('--arg <value>', 'an argument for the program (repeatable)', collect, [])
    .option('--stdin <file>', 'a file to feed on standard input')
    .option('--url <url>', 'the gatekeeper', process.env.GATEKEEPER_URL ?? 'http://127.0.0.1:8787')
    .option('--key <key>', 'the agent key (default: $GATEKEEPER_AGENT_KEY)')
    .option('--approval <id>', 'retry with an approval a reviewer granted (OAGF-Approval)')
    .action(async (file: string, o: Options) => {
      process.exitCode = await run(file, o);
    });
  return sandbox;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function run(file: string, o: Options): Promise<number> {
  const key = o.key ?? process.env.GATEKEEPER_AGENT_KEY;
  if (!key) throw new Error('give the agent key with --key or GATEKEEPER_AGENT_KEY');
  const bytes = readFileSync(file);
  const body = {
    language: o.lang,
    ...(o.lang === 'binary' ? { code_base64: bytes.toString('base64') } : { code: bytes.toString('utf8') }),
    args: o.arg,
    ...(o.stdin ? { stdin: readFileSync(o.stdin, 'utf8') } : {}),
    network: { allow: o.allowNet },
  };
  const url = `${o.url.replace(/\/+$/, '')}/v1/sandbox/executions`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(o.approval ? { 'oagf-approval': o.approval } : {}) },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`cannot reach the gatekeeper at ${o.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status === 202) {
    const error = answer.error as { message: string; approval_id: string };
    console.error(`gatekeeper: ${error.message}\nwaiting for a reviewer; when approved, run again with --approval ${error.approval_id}`);
    return 1;
  }
  if (!res.ok) {
    console.error(`gatekeeper: refused (${res.status}): ${(answer.error as { message?: string } | undefined)?.message ?? JSON.stringify(answer)}`);
    return 1;
  }
  process.stdout.write(String(answer.stdout ?? ''));
  process.stderr.write(String(answer.stderr ?? ''));
  if (answer.status !== 'exited') {
    console.error(`gatekeeper: the execution ended: ${String(answer.status)} (limits reached: ${(answer.limits_reached as string[]).join(', ') || 'none'})`);
    return 124;
  }
  return Number(answer.exit_code ?? 0);
}
