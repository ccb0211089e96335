/**
 * The approval workflow: opens an approval for each escalation, collects reviewers' votes under the four-eyes
 * and N-of-M rules, writes every final verdict to the ledger signed with the approval key, expires what nobody
 * decided, and lets the approved action through exactly once.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Decision, OagfInput } from '../spec/index.js';
import { canDecide } from './accounts.js';
import { maybeSamePerson, sameIdentity } from '../identity.js';
import type { ApprovalSigner, VerdictStatement } from './signing.js';
import type { ApprovalQuery, ApprovalStore } from '../stores/approvals.js';
import { RESYNC, type Notifier } from '../stores/notifier.js';
import type { Redactor } from '../redact.js';
import { sessionOf, type ReasoningTrace } from './trace.js';
import {
  ApprovalError,
  type Approval,
  type ApprovalLedger,
  type ApproverRequirement,
  type LedgerEntry,
  type Reviewer,
  type Verdict,
  type Vote,
} from './types.js';

export interface Escalation {
  id: string;
  input: OagfInput;
  decision: Decision;
  actionDigest: string;
  /** The ledger record of the escalate decision. */
  escalation: { id: string; index?: number };
  trace?: ReasoningTrace;
}

export interface ApprovalServiceOptions {
  store: ApprovalStore;
  /** Wakes held requests and live consoles when an approval changes (in this process or, with a shared store, another). */
  notifier: Notifier;
  ledger: ApprovalLedger;
  signer: ApprovalSigner;
  redactor: Redactor;
  /** How long an approval stays open. */
  expiryMs: number;
  now?: () => Date;
}

/** Changes made by this process, for its own metrics (other processes' changes arrive through the notifier). */
export interface ApprovalEvents {
  created: [Approval];
  decided: [Approval];
  voted: [Approval];
  /** The approved action was carried out. */
  used: [Approval];
}

/** The notifier topic approval changes are published on. */
export const APPROVALS_TOPIC = 'approvals';

export class ApprovalService extends EventEmitter<ApprovalEvents> {
  readonly store: ApprovalStore;
  private readonly now: () => Date;
  private readonly locks = new Map<string, Promise<unknown>>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: ApprovalServiceOptions) {
    super();
    this.setMaxListeners(0);
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
  }

  /** A fresh approval id, assigned before the escalation is recorded so the record can name it. */
  newId(): string {
    return `apr_${randomBytes(10).toString('hex')}`;
  }

  /**
   * Opens an approval for an escalated action once its decision record is durable. The reasoning trace was
   * committed in that record as a payload; the copy kept here is for the console.
   */
  async open(e: Escalation): Promise<Approval> {
    const created = this.now();
    const approval: Approval = {
      id: e.id,
      status: 'pending',
      actionDigest: e.actionDigest,
      policyDigest: e.decision.policy_digest,
      agentId: e.input.agent.id,
      ...(e.input.agent.owner ? { agentOwner: e.input.agent.owner } : {}),
      ...(sessionOf(e.input) ? { sessionId: sessionOf(e.input)! } : {}),
      surface: e.input.context.surface ?? 'decision',
      summary: summarize(e.input),
      ...(e.input.action.amount ? { amount: { value: e.input.action.amount.value, currency: e.input.action.amount.currency } } : {}),
      input: this.options.redactor.value(e.input) as unknown as Record<string, unknown>,
      decision: e.decision as unknown as Record<string, unknown>,
      required: requirementOf(e.decision),
      escalation: e.escalation,
      ...(e.trace ? { trace: e.trace } : {}),
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + this.options.expiryMs).toISOString(),
      votes: [],
    };
    await this.store.insert(approval);
    await this.changed('created', approval);
    return approval;
  }

  get(id: string): Promise<Approval | undefined> {
    return this.store.get(id);
  }

  list(query?: ApprovalQuery): Promise<Approval[]> {
    return this.store.list(query);
  }

  /** Records one reviewer's verdict; the approval becomes final on the first rejection or the Nth approval. */
  decide(id: string, reviewer: Reviewer, verdict: Verdict, comment: string): Promise<Approval> {
    return this.serialized(id, async () => {
      const approval = await this.mustGet(id);
      if (approval.status !== 'pending') throw new ApprovalError('not_pending', `approval ${id} is already ${approval.status}`);
      if (Date.parse(approval.expiresAt) <= this.now().getTime()) {
        await this.finalize(approval, 'expired', []);
        throw new ApprovalError('expired', `approval ${id} expired at ${approval.expiresAt}`);
      }
      if (!canDecide(reviewer)) throw new ApprovalError('forbidden', `${reviewer.username} has no reviewer role`);
      if (verdict === 'approve' && ownsRequest(approval, reviewer.username)) {
        throw new ApprovalError('self_approval', `${reviewer.username} owns agent ${approval.agentId} and cannot approve its request (four eyes)`);
      }
      if (!eligible(reviewer, approval.required)) {
        throw new ApprovalError('not_eligible', `${reviewer.username} is not among the approvers this request needs (${describeRequirement(approval.required)})`);
      }
      if (hasVoted(approval, reviewer.username)) {
        throw new ApprovalError('already_voted', `${reviewer.username} has already decided on approval ${id}`);
      }
      const vote: Vote = { reviewer: reviewer.username, verdict, comment, time: this.now().toISOString() };
      const votes = [...approval.votes, vote];
      const approvals = votes.filter((v) => v.verdict === 'approve').length;
      if (verdict === 'reject') return this.finalize(approval, 'rejected', votes);
      if (approvals >= approval.required.min) return this.finalize(approval, 'approved', votes);
      await this.store.addVote(id, vote);
      const updated = await this.mustGet(id);
      await this.changed('voted', updated);
      return updated;
    });
  }

  /** Expires every pending approval past its expiry; returns how many. */
  async expireDue(): Promise<number> {
    const due = await this.store.due(this.now().toISOString());
    for (const a of due) {
      await this.serialized(a.id, async () => {
        const current = await this.mustGet(a.id);
        if (current.status === 'pending') await this.finalize(current, 'expired', current.votes);
      });
    }
    return due.length;
  }

  /** Starts the periodic expiry sweep. */
  start(intervalMs = 1000): void {
    // One replica at a time sweeps: the others would only race it to the same conditional updates.
    this.sweeper ??= setInterval(() => void this.store.exclusive(() => this.expireDue()).catch(() => {}), intervalMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Resolves once the approval is final, or with its current state after `timeoutMs` (or when `signal` aborts). */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Approval> {
    let finished!: () => void;
    const woken = new Promise<void>((resolve) => (finished = resolve));
    // Subscribed before reading, so a verdict landing in between is not missed.
    const unsubscribe = this.options.notifier.subscribe(APPROVALS_TOPIC, (n) => {
      if (n.id === id && n.event === 'decided') finished();
      // Notices may have been missed (the database connection was down): the verdict may have landed meanwhile.
      else if (n.event === RESYNC) void this.store.get(id).then((a) => a?.status !== 'pending' && finished(), () => undefined);
    });
    try {
      const current = await this.mustGet(id);
      if (current.status !== 'pending') return current;
      const expiresIn = Date.parse(current.expiresAt) - this.now().getTime();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          // An approval that expires while an agent waits is expired now, not at the next sweep.
          if (expiresIn <= timeoutMs) void this.expireDue().finally(resolve);
          else resolve();
        }, Math.max(0, Math.min(timeoutMs, expiresIn)));
      });
      const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([woken, timedOut, aborted]);
      clearTimeout(timer);
      return await this.mustGet(id);
    } finally {
      unsubscribe();
    }
  }

  /**
   * Claims an approval for agent `agentId` to carry out the action with digest `actionDigest`. Succeeds exactly
   * once per approved approval; another agent, a different action, a pending, rejected, expired or already used
   * approval is refused.
   */
  async redeem(id: string, actionDigest: string, agentId: string): Promise<Approval> {
    const approval = await this.mustGet(id);
    if (approval.agentId !== agentId) throw new ApprovalError('wrong_agent', `approval ${id} was requested by agent ${approval.agentId}, not ${agentId}`);
    if (approval.actionDigest !== actionDigest) {
      throw new ApprovalError('digest_mismatch', `approval ${id} was granted for a different action (its arguments differ); a new approval is needed`);
    }
    if (approval.status === 'pending' && Date.parse(approval.expiresAt) <= this.now().getTime()) await this.expireDue();
    const status = (await this.mustGet(id)).status;
    if (status === 'pending') throw new ApprovalError('pending', `approval ${id} is still pending`);
    if (status === 'rejected') throw new ApprovalError('rejected', `approval ${id} was rejected`);
    if (status === 'expired') throw new ApprovalError('expired', `approval ${id} expired at ${approval.expiresAt}`);
    if (!(await this.store.consume(id, this.now().toISOString()))) throw new ApprovalError('already_used', `approval ${id} has already been used`);
    const used = await this.mustGet(id);
    await this.changed('used', used);
    return used;
  }

  private async finalize(approval: Approval, status: 'approved' | 'rejected' | 'expired', votes: Vote[]): Promise<Approval> {
    const time = this.now().toISOString();
    const statement: VerdictStatement = {
      v: 1,
      approval_id: approval.id,
      action_digest: approval.actionDigest,
      policy_digest: approval.policyDigest,
      verdict: status,
      reviewers: votes.map((v) => v.reviewer),
      time,
    };
    const signature = this.options.signer.sign(statement);
    const type = status === 'approved' ? 'approval.granted' : status === 'rejected' ? 'approval.rejected' : 'approval.expired';
    const entry: LedgerEntry = {
      v: 1,
      type,
      id: `${approval.id}.${status}`,
      time,
      agent: approval.agentId,
      action_digest: approval.actionDigest,
      policy_digest: approval.policyDigest,
      outcome: status === 'approved' ? 'allow' : 'deny',
      reasons: votes.map((v) => `${v.reviewer} ${v.verdict === 'approve' ? 'approved' : 'rejected'}${v.comment ? `: ${v.comment}` : ''}`),
      links: [{ rel: 'escalation', ...approval.escalation }],
      data: { statement, signature, key_id: this.options.signer.keyId, public_key: this.options.signer.publicKeyPem, votes },
    };
    // Ledger first: a verdict that is not in the ledger never takes effect.
    const appended = await this.options.ledger.append(entry);
    for (const v of votes) await this.store.addVote(approval.id, v);
    await this.store.finalize(approval.id, status, time, { id: entry.id, index: appended.index });
    const updated = await this.mustGet(approval.id);
    await this.changed('decided', updated);
    return updated;
  }

  private async mustGet(id: string): Promise<Approval> {
    const a = await this.store.get(id);
    if (!a) throw new ApprovalError('not_found', `no approval ${id}`);
    return a;
  }

  private async changed(event: keyof ApprovalEvents, a: Approval): Promise<void> {
    this.emit(event, a);
    await this.options.notifier.publish(APPROVALS_TOPIC, { event, id: a.id, status: a.status });
  }

  /**
   * Runs `fn` after any earlier operation on the same approval, in this process and (through the store's lock) in
   * every other sharing the store, so concurrent verdicts are decided one by one.
   */
  private serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = () => this.store.locked(id, fn);
    const next = previous.then(run, run);
    const settled = next.catch(() => {});
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return next;
  }
}

function requirementOf(decision: Decision): ApproverRequirement {
  const a = decision.approvers;
  return { min: a?.min ?? 1, groups: a?.groups ?? [], users: a?.users ?? [] };
}

export function describeRequirement(r: ApproverRequirement): string {
  const who = [...r.users, ...r.groups.map((g) => `group ${g}`)];
  return `${r.min} approval${r.min === 1 ? '' : 's'}${who.length ? ` from ${who.join(', ')}` : ''}`;
}

/** Eligibility is strict: a named user or group, compared as canonical identities (never by e-mail local part). */
function eligible(reviewer: Reviewer, r: ApproverRequirement): boolean {
  if (!r.users.length && !r.groups.length) return true;
  return r.users.some((u) => sameIdentity(u, reviewer.username)) || reviewer.groups.some((g) => r.groups.some((want) => sameIdentity(g, want)));
}

/** The owners of the acting agent and of every agent that handed it the work. */
export function ownersOf(approval: Approval): string[] {
  const agent = (approval.input as { agent?: { owner?: string; delegation?: { owner?: string }[] } }).agent;
  return [agent?.owner, ...(agent?.delegation ?? []).map((h) => h.owner)].filter((o): o is string => !!o);
}

/** Four eyes, failing safe: whoever may be an owner (identity.ts `maybeSamePerson`) counts as one. */
export function ownsRequest(approval: Approval, username: string): boolean {
  return ownersOf(approval).some((owner) => maybeSamePerson(owner, username));
}

export function hasVoted(approval: Approval, username: string): boolean {
  return approval.votes.some((v) => sameIdentity(v.reviewer, username));
}

const money = (value: number, currency: string) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 2 }).format(value);

export function formatAmount(amount: { value: number; currency: string }): string {
  try {
    return money(amount.value, amount.currency);
  } catch {
    return `${amount.currency} ${amount.value.toLocaleString('en-US')}`;
  }
}

/** One line naming the action, e.g. "place_order · $2,400,000.00 · agent buyer". */
function summarize(input: OagfInput): string {
  const t = input.action.target;
  // MCP actions name their server: "fs/write_file", "docs/file:///a.md", "everything/simple-prompt".
  const mcp = t.server && (t.tool ?? t.uri ?? t.prompt);
  const what = mcp ? `${t.server}/${mcp}` : t.tool ?? (t.api ? `${t.method ?? ''} ${t.api}${t.path ?? ''}`.trim() : t.model ?? input.action.kind);
  const amount = input.action.amount ? ` · ${formatAmount(input.action.amount)}` : '';
  return `${what}${amount}`;
}
