/**
 * `gatekeeper demo`: the keynote, start to finish. Interactive by default (a reviewer decides in the console or
 * with `gatekeeper approvals`); `--auto approve|reject` plays the reviewer too and exits 0 only if the story ran
 * as designed and the ledger verifies.
 */
import { Command, Option } from 'commander';
import { basename, relative, resolve } from 'node:path';
import { formatAmount } from '../approvals/service.js';
import type { Approval } from '../approvals/types.js';
import { runStory, type StoryResult } from './agents.js';
import { STORY } from './script.js';
import { auditLedger, auditVerdict } from './verify.js';
import { AGENT_KEYS, basic, startDemo, type DemoWorld } from './world.js';

export interface DemoRunOptions {
  auto?: 'approve' | 'reject';
  dir: string;
  port: number;
  mode: 'hold' | 'async';
  print: (line: string) => void;
  /** How the user runs the CLI, for the commands the demo suggests. */
  cli?: string;
}

export interface DemoOutcome {
  ok: boolean;
  approval?: Approval;
  story?: StoryResult;
  /** Entries in the demo's ledger once it is over. */
  ledgerEntries?: number;
  problems: string[];
}


export async function runDemo(o: DemoRunOptions): Promise<DemoOutcome> {
  const say = o.print;
  const problems: string[] = [];
  say('Gatekeeper keynote: a buyer agent tries to place a $2.4M order over its $1M limit.');
  const world = await startDemo({
    dir: o.dir,
    port: o.port,
    mode: o.mode,
    holdTimeoutS: o.auto ? 60 : 280,
    onNotice: (line) => say(`  [notice] ${line}`),
  });
  let approval: Approval | undefined;
  let story: StoryResult | undefined;
  try {
    say(`  gatekeeper  ${world.gatekeeperUrl}   (config ${world.configFile})`);
    say(`  model       ${world.model.url} (scripted, OpenAI-compatible)`);
    say(`  ERP         ${world.erp.url}`);
    say('');
    const opened = new Promise<Approval>((r) => world.approvals.once('created', r));
    const storyDone = runStory({
      gatekeeperUrl: world.gatekeeperUrl,
      plannerKey: AGENT_KEYS.planner,
      buyerKey: AGENT_KEYS.buyer,
      events: { step: (agent, text) => say(`  ${agent.padEnd(8)}${text}`) },
    });
    const first = await Promise.race([opened, storyDone.then(() => undefined)]);
    if (!first) throw new Error('the story finished without an escalation: the policy did not escalate the $2.4M order');
    approval = first;
    say('');
    say(`>> ESCALATED: ${approval.summary} by ${approval.agentId} (owner ${approval.agentOwner}) — approval ${approval.id}`);
    for (const r of (approval.decision as { reasons?: string[] }).reasons ?? []) say(`   policy: ${r}`);
    say(`   the buyer's request is ${o.mode === 'hold' ? 'held open' : 'answered 202; it retries with OAGF-Approval'} until a reviewer decides`);
    say('');
    if (o.auto) await reviewAutomatically(world.consoleUrl, approval.id, o.auto, KEYNOTE_COMMENTS[o.auto], say, problems);
    else printConsoleHelp(world, approval, o.cli ?? 'gatekeeper', say);

    story = await storyDone;
    approval = (await world.approvals.get(approval.id))!;
    say('');
    say(`>> ${approval.status.toUpperCase()} by ${approval.votes.map((v) => v.reviewer).join(', ') || 'nobody'}; ERP orders placed: ${world.erp.orders.length}`);
    say(`   buyer: ${story.buyerAnswer}`);
    checkStory(world, approval, story, o.auto, problems);

    await auditVerdict(world.consoleUrl, world.ledgerKey, approval, say, problems);
  } finally {
    await world.close();
  }
  const entries = await auditLedger(world.ledgerFile, world.ledgerKey, say, problems, 'the story ran as designed');
  say('');
  say(`The demo's state is kept in ${o.dir}. Look at it as an auditor would:`);
  say(`  ${o.cli ?? 'gatekeeper'} ledger verify ${world.ledgerFile} --vkey ${o.dir}/ledger.vkey`);
  say(`  ${o.cli ?? 'gatekeeper'} replay --ledger ${world.ledgerFile} --policy ${world.policyDirs.join(' ')}`);
  return { ok: problems.length === 0, ...(approval ? { approval } : {}), ...(story ? { story } : {}), ledgerEntries: entries, problems };
}

const KEYNOTE_COMMENTS = {
  approve: 'Checked with the CFO: stock-out would stop the Ohio line. Approved.',
  reject: 'Split the order and get a second quote first.',
};

/** The reviewers' part, unattended: the agents' owner tries to approve (refused: four eyes), then priya decides. */
export async function reviewAutomatically(consoleUrl: string, approvalId: string, verdict: 'approve' | 'reject', comment: string, say: (l: string) => void, problems: string[]) {
  const decide = (user: string, comment: string) =>
    fetch(`${consoleUrl}/api/approvals/${approvalId}/decision`, {
      method: 'POST',
      headers: { authorization: basic(user), 'content-type': 'application/json' },
      body: JSON.stringify({ verdict, comment }),
    });
  if (verdict === 'approve') {
    const owner = await decide('dana', 'my own agents, fine by me');
    const body = (await owner.json()) as { error?: { message: string } };
    say(`  dana (owns the agents) tries to approve: HTTP ${owner.status} — ${body.error?.message ?? 'accepted'}`);
    if (owner.status !== 403) problems.push('the agent owner was allowed to approve (four eyes broken)');
  }
  const res = await decide('priya', comment);
  say(`  priya (procurement lead) ${verdict}s: HTTP ${res.status} — "${comment}"`);
  if (res.status !== 200) problems.push(`priya's ${verdict} was refused (HTTP ${res.status}): ${await res.text()}`);
}

function printConsoleHelp(world: DemoWorld, approval: Approval, cli: string, say: (l: string) => void) {
  say(`Decide it in the reviewer console:  ${world.consoleUrl}/requests/${approval.id}`);
  say('  sign in as  priya / gatekeeper   (procurement lead — may approve)');
  say('              dana / gatekeeper    (owns the agents — four eyes: may not approve)');
  say('              audrey / gatekeeper  (auditor — read only)');
  say('or from another terminal:');
  say(`  ${cli} approvals approve ${approval.id} --url ${world.gatekeeperUrl} --user priya --comment "ok"`);
  say(`  ${cli} approvals reject  ${approval.id} --url ${world.gatekeeperUrl} --user priya --comment "no"`);
  say('(password prompt: gatekeeper, or set GATEKEEPER_PASSWORD)  Waiting for the decision…');
}

function checkStory(world: DemoWorld, approval: Approval, story: StoryResult, expected: 'approve' | 'reject' | undefined, problems: string[]) {
  const verdict = expected ?? (approval.status === 'approved' ? 'approve' : 'reject');
  if (verdict === 'approve') {
    if (approval.status !== 'approved') problems.push(`expected the approval to be approved, it is ${approval.status}`);
    if (!approval.consumedAt) problems.push('the approved order was not carried out');
    const [order] = world.erp.orders;
    if (world.erp.orders.length !== 1 || order?.total !== STORY.total) problems.push(`expected exactly one ERP order of ${formatAmount({ value: STORY.total, currency: 'USD' })}, got ${world.erp.orders.length}`);
    if (story.order?.status !== 201) problems.push(`the buyer's order request ended with HTTP ${story.order?.status}, not 201`);
  } else {
    if (!['rejected', 'expired'].includes(approval.status)) problems.push(`expected the approval to be rejected, it is ${approval.status}`);
    if (world.erp.orders.length !== 0) problems.push(`a rejected order reached the ERP (${world.erp.orders.length} orders)`);
    if (story.order?.status !== 403) problems.push(`the buyer's order request ended with HTTP ${story.order?.status}, not 403`);
  }
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the keynote on the embedded default: agents, model, ERP, gatekeeper, reviewer console, signed ledger')
    .addOption(new Option('--auto <verdict>', 'play the reviewer too, unattended; exit 0 only if the story ran as designed').choices(['approve', 'reject']))
    .option('--dir <dir>', 'where the demo keeps its ledger and databases, left there to inspect (wiped at each start)', '.gatekeeper-demo')
    .option('--port <port>', 'gatekeeper port (0 = any free port)', '8787')
    .addOption(new Option('--mode <mode>', "what the buyer experiences on escalation: its request held open, or 202 + retry").choices(['hold', 'async']))
    .action(async (opts: { auto?: 'approve' | 'reject'; dir: string; port: string; mode?: 'hold' | 'async' }) => {
      const dir = resolve(opts.dir);
      const outcome = await runDemo({
        ...(opts.auto ? { auto: opts.auto } : {}),
        dir,
        port: Number(opts.port),
        mode: opts.mode ?? (opts.auto ? 'hold' : 'async'),
        print: (l) => console.log(l),
        cli: basename(process.argv[1] ?? '') === 'gatekeeper' ? 'gatekeeper' : `node ${relative(process.cwd(), process.argv[1] ?? 'cli.js')}`,
      });
      process.exitCode = outcome.ok ? 0 : 1;
    });
}
