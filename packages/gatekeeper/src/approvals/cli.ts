/**
 * `gatekeeper approvals list|show|approve|reject|hash-password`. The first four talk to a running gatekeeper's
 * console API with a console account (HTTP Basic), so a verdict given here goes through exactly the same checks,
 * signing and ledger entry as one given in the browser.
 */
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { hashPassword } from './accounts.js';
import { parseApprovalsConfig } from './config.js';
import { describeRequirement, formatAmount } from './service.js';
import type { Approval, NoticeDelivery } from './types.js';

interface Connection {
  url?: string;
  config?: string;
  user?: string;
}

const DEFAULT_URL = 'http://127.0.0.1:8787';

/** --url, else the console's public URL or listen address in --config, else GATEKEEPER_URL, else the default address. */
export function gatekeeperUrl(c: Connection, env: NodeJS.ProcessEnv = process.env): string {
  if (c.url) return c.url;
  if (c.config) {
    const { config, dir } = loadConfigFile(c.config);
    const publicUrl = config.approvals === undefined ? undefined : parseApprovalsConfig(config.approvals, dir).console.public_url;
    if (publicUrl) return publicUrl.replace(/\/console\/?$/, '');
    // A wildcard listen address is reached on this machine's loopback.
    const host = config.listen.host === '0.0.0.0' ? '127.0.0.1' : config.listen.host === '::' ? '::1' : config.listen.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${config.listen.port}`;
  }
  return env.GATEKEEPER_URL ?? DEFAULT_URL;
}

interface Brief {
  id: string;
  status: string;
  agent: string;
  summary: string;
  amount?: { value: number; currency: string };
  created_at: string;
  consumed_at?: string;
  votes: { reviewer: string }[];
  reasons: string[];
}

async function password(user: string): Promise<string> {
  if (process.env.GATEKEEPER_PASSWORD) return process.env.GATEKEEPER_PASSWORD;
  if (!process.stdin.isTTY) throw new Error('set GATEKEEPER_PASSWORD (no terminal to ask for the password)');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const muted = rl as unknown as { _writeToOutput: (s: string) => void };
  const answer = new Promise<string>((resolve) => rl.question(`password for ${user}: `, resolve));
  muted._writeToOutput = () => {};
  const pw = await answer;
  rl.close();
  process.stdout.write('\n');
  return pw;
}

async function call(c: Connection, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const user = c.user ?? process.env.GATEKEEPER_USER;
  if (!user) throw new Error('name a console account with --user (or GATEKEEPER_USER)');
  const url = gatekeeperUrl(c);
  const auth = `Basic ${Buffer.from(`${user}:${await password(user)}`).toString('base64')}`;
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/console/api${path}`, {
      method,
      headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach the gatekeeper at ${url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const error = json.error as { message?: string } | undefined;
    throw new Error(`${error?.message ?? `HTTP ${res.status}`}${res.status === 401 ? ' (wrong user or password?)' : ''}`);
  }
  return json;
}

const money = (a?: { value: number; currency: string }) => (a ? formatAmount(a) : '');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function printApproval(a: Approval, notices: NoticeDelivery[]): void {
  const decision = a.decision as { reasons?: string[]; explanation?: { rule: string }[] };
  const lines = [
    `${a.id}  ${a.status.toUpperCase()}${a.consumedAt ? ' (carried out)' : ''}`,
    `  action     ${a.summary}`,
    ...(a.amount ? [`  amount     ${formatAmount(a.amount)}`] : []),
    `  agent      ${a.agentId}${a.agentOwner ? ` (owner ${a.agentOwner})` : ''}`,
    `  needs      ${describeRequirement(a.required)}`,
    `  requested  ${a.createdAt}   expires ${a.expiresAt}`,
    `  digest     ${a.actionDigest}`,
    `  ledger     escalation #${a.escalation.index ?? a.escalation.id}${a.final ? `, verdict #${a.final.index ?? a.final.id}` : ''}`,
    '  why:',
    ...(decision.reasons ?? []).map((r) => `    - ${r}`),
  ];
  if (a.trace?.steps.length) {
    lines.push(`  reasoning trace (${a.trace.chain.map((c) => c.agent).join(' → ')}):`);
    for (const s of a.trace.steps) {
      const text = s.kind === 'message' ? `${s.role}: ${s.reasoning ? `[thinks] ${s.reasoning} ` : ''}${s.content ?? ''}` : s.kind === 'tool_result' ? `tool result: ${s.content ?? ''}` : `${s.tool}${s.arguments !== undefined ? ` ${JSON.stringify(s.arguments)}` : ''} → ${s.outcome ?? ''}`;
      lines.push(`    ${s.agent.padEnd(8)} ${text.length > 160 ? `${text.slice(0, 157)}...` : text}`);
    }
  }
  for (const v of a.votes) lines.push(`  ${v.verdict === 'approve' ? 'approved' : 'rejected'} by ${v.reviewer} at ${v.time}${v.comment ? `: ${v.comment}` : ''}`);
  for (const n of notices) lines.push(`  notice ${n.channel}: ${n.status} after ${n.attempts} attempt(s)${n.lastError ? ` (${n.lastError})` : ''}`);
  console.log(lines.join('\n'));
}

export function approvalsCommand(): Command {
  const cmd = new Command('approvals').description('list and decide approval requests on a running gatekeeper (as a console account)');
  const connection = (c: Command) =>
    c
      .option('--url <url>', `gatekeeper base URL (default: from --config, else $GATEKEEPER_URL, else ${DEFAULT_URL})`)
      .option('--config <file>', "take the URL from this gatekeeper.yaml (approvals.console.public_url, else listen)")
      .option('--user <name>', 'console account (password from GATEKEEPER_PASSWORD or a prompt)');

  connection(cmd.command('list').description('approval requests, newest first'))
    .addOption(new Option('--status <status>', 'which ones').choices(['pending', 'approved', 'rejected', 'expired', 'all']).default('pending'))
    .option('-q, --query <text>', 'search agent, owner, action, reviewer, comment, id or digest')
    .option('--json', 'print JSON')
    .action(async (o: Connection & { status: string; query?: string; json?: boolean }) => {
      const params = new URLSearchParams();
      if (o.status !== 'all') params.set('status', o.status);
      if (o.query) params.set('q', o.query);
      const { approvals } = (await call(o, 'GET', `/approvals?${params}`)) as { approvals: Brief[] };
      if (o.json) return console.log(JSON.stringify(approvals, null, 2));
      if (!approvals.length) return console.log(`no ${o.status === 'all' ? '' : `${o.status} `}approval requests`);
      console.log(
        table([
          ['ID', 'STATUS', 'AGENT', 'AMOUNT', 'ACTION', 'REQUESTED', 'DECIDED BY'],
          ...approvals.map((a) => [a.id, a.status + (a.consumed_at ? '*' : ''), a.agent, money(a.amount), a.summary.split(' · ')[0]!, a.created_at, a.votes.map((v) => v.reviewer).join(',')]),
        ]),
      );
    });

  connection(cmd.command('show').description('one request: action, reasons, reasoning trace, votes, notices').argument('<id>'))
    .option('--json', 'print JSON')
    .action(async (id: string, o: Connection & { json?: boolean }) => {
      const body = (await call(o, 'GET', `/approvals/${encodeURIComponent(id)}`)) as { approval: Approval; notices: NoticeDelivery[] };
      if (o.json) console.log(JSON.stringify(body, null, 2));
      else printApproval(body.approval, body.notices);
    });

  for (const verdict of ['approve', 'reject'] as const) {
    connection(cmd.command(verdict).description(`${verdict} a pending request (signed and recorded in the ledger)`).argument('<id>'))
      .option('-c, --comment <text>', 'why', '')
      .action(async (id: string, o: Connection & { comment: string }) => {
        const { approval } = (await call(o, 'POST', `/approvals/${encodeURIComponent(id)}/decision`, { verdict, comment: o.comment })) as { approval: Approval };
        const need = approval.required.min - approval.votes.filter((v) => v.verdict === 'approve').length;
        console.log(approval.status === 'pending' ? `${id}: your approval is recorded; ${need} more needed` : `${id}: ${approval.status} (verdict signed, ledger entry #${approval.final?.index})`);
      });
  }

  cmd
    .command('hash-password')
    .description('print the scrypt hash of a console password for approvals.accounts[].password_hash')
    .argument('[password]', 'the password (read from a prompt when omitted)')
    .action(async (pw?: string) => console.log(await hashPassword(pw ?? (await password('the new account')))));
  return cmd;
}
