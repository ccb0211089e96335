/** The console's pages, rendered on the server. Live updates and proof checks are added by static/console.js. */
import { describeRequirement, formatAmount } from '../service.js';
import type { OagfSession } from '../../spec/index.js';
import type { ReasoningTrace, TraceStep } from '../trace.js';
import type { Approval, NoticeDelivery, Reviewer } from '../types.js';
import { html, raw, type Html } from './html.js';

export interface PageFrame {
  title: string;
  user?: Reviewer;
  active?: 'queue' | 'history' | 'ledger';
  pending?: number;
  body: Html;
  /** Move on to this same-origin path at once (meta refresh). */
  refresh?: string;
}

export function layout(f: PageFrame): string {
  const nav = (key: PageFrame['active'], href: string, label: string, extra?: Html) =>
    html`<a href="${href}" class="${f.active === key ? 'active' : ''}">${label}${extra}</a>`;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} · Gatekeeper</title>
${f.refresh ? html`<meta http-equiv="refresh" content="0;url=${f.refresh}">` : ''}
<link rel="stylesheet" href="/console/static/console.css">
<script type="module" src="/console/static/console.js"></script>
</head><body>
<header class="topbar">
  <a class="brand" href="/console"><span class="logo" aria-hidden="true"></span>Gatekeeper<span class="brand-sub">Reviewer console</span></a>
  ${
    f.user
      ? html`<nav>
    ${nav('queue', '/console', 'Queue', html` <span class="badge ${f.pending ? '' : 'zero'}" data-pending-count>${f.pending ?? 0}</span>`)}
    ${nav('history', '/console/history', 'History')}
    ${nav('ledger', '/console/ledger', 'Ledger')}
  </nav>
  <div class="account"><span class="avatar">${f.user.displayName.slice(0, 1).toUpperCase()}</span>
    <span><strong>${f.user.displayName}</strong><small>${f.user.roles.join(', ')}</small></span>
    <form method="post" action="/console/logout"><button class="link">Sign out</button></form></div>`
      : ''
  }
</header>
<main class="container">${f.body}</main>
</body></html>`}`;
}

/** How reviewers can sign in: local accounts (a password form), single sign-on (a button), or both. */
export interface SignInOptions {
  local: boolean;
  sso?: { label: string };
}

export function loginPage(error?: string, next = '/console', options: SignInOptions = { local: true }): Html {
  const sso = options.sso;
  return html`<div class="login">
  <div class="card login-card">
    <div class="login-head"><span class="logo big" aria-hidden="true"></span><h1>Sign in</h1><p class="muted">Review what your agents want to do.</p></div>
    ${error ? html`<div class="alert error" role="alert" data-sign-in-error>${error}</div>` : ''}
    ${sso ? html`<a class="btn primary wide" data-sso href="/console/oidc/login?next=${encodeURIComponent(next)}">${sso.label}</a>` : ''}
    ${sso && options.local ? html`<p class="muted or">or with a local account</p>` : ''}
    ${
      options.local
        ? html`<form method="post" action="/console/login">
      <input type="hidden" name="next" value="${next}">
      <label>Username<input name="username" autocomplete="username" required ${sso ? '' : raw('autofocus')}></label>
      <label>Password<input name="password" type="password" autocomplete="current-password" required></label>
      <button class="btn ${sso ? '' : 'primary'} wide" type="submit">Sign in</button>
    </form>`
        : ''
    }
  </div></div>`;
}

/**
 * After single sign-on: a page of the console's own that moves on to `next`. The session cookie is SameSite=Strict,
 * and browsers do not send it on a navigation that began at the provider's site; this page's own navigation does.
 */
export function signedInPage(reviewer: Reviewer, next: string): Html {
  return html`<div class="login"><div class="card login-card" data-signed-in>
  <div class="login-head"><span class="logo big" aria-hidden="true"></span><h1>Signed in</h1>
  <p class="muted">as ${reviewer.displayName} (${reviewer.username}) · ${reviewer.roles.join(', ')}</p></div>
  <a class="btn primary wide" href="${next}">Continue</a></div></div>`;
}

const STATUS_LABEL: Record<Approval['status'], string> = { pending: 'Pending', approved: 'Approved', rejected: 'Rejected', expired: 'Expired' };

export function statusPill(a: Approval): Html {
  const used = a.status === 'approved' && a.consumedAt;
  return html`<span class="pill ${a.status}">${STATUS_LABEL[a.status]}${used ? ' · carried out' : ''}</span>`;
}

function chainOf(a: Approval): string[] {
  const agent = (a.input as { agent?: { delegation?: { agent: string }[] } }).agent;
  return [...(agent?.delegation ?? []).map((h) => h.agent), a.agentId];
}

const firstReason = (a: Approval) => ((a.decision as { reasons?: string[] }).reasons ?? [])[0] ?? '';

export function queueRows(items: Approval[]): Html {
  if (!items.length) return html`<tr class="empty"><td colspan="6"><div class="empty-state"><strong>Nothing is waiting for a decision.</strong><span>New requests appear here as soon as a policy escalates them.</span></div></td></tr>`;
  return html`${items.map(
    (a) => html`<tr data-href="/console/requests/${a.id}">
    <td><time datetime="${a.createdAt}" data-relative>${a.createdAt}</time></td>
    <td><span class="chain">${chainOf(a).join(' → ')}</span>${a.agentOwner ? html`<small>owner ${a.agentOwner}</small>` : ''}</td>
    <td><a href="/console/requests/${a.id}" class="row-link">${a.summary.split(' · ')[0]}</a></td>
    <td class="num amount">${a.amount ? formatAmount(a.amount) : '—'}</td>
    <td class="reason">${firstReason(a)}</td>
    <td><time datetime="${a.expiresAt}" data-countdown>${a.expiresAt}</time><small>${describeRequirement(a.required)}</small></td>
  </tr>`,
  )}`;
}

export function queuePage(items: Approval[]): Html {
  return html`<div class="page-head"><div><h1>Pending approvals</h1><p class="muted">Actions your policies escalated to a human. The list updates live.</p></div>
  <span class="live" data-live><span class="dot"></span>Live</span></div>
  <div class="card flush"><table class="table clickable">
    <thead><tr><th>Requested</th><th>Agent</th><th>Action</th><th class="num">Amount</th><th>Why</th><th>Expires</th></tr></thead>
    <tbody data-queue>${queueRows(items)}</tbody></table></div>`;
}

export function historyPage(items: Approval[], q: string, status: string): Html {
  const opt = (v: string, label: string) => html`<option value="${v}" ${status === v ? raw('selected') : ''}>${label}</option>`;
  return html`<div class="page-head"><div><h1>History</h1><p class="muted">Every approval request, newest first. Search by agent, owner, action, reviewer, comment, id or digest.</p></div></div>
  <form class="toolbar" method="get" action="/console/history">
    <input type="search" name="q" value="${q}" placeholder="Search requests" aria-label="Search">
    <select name="status" aria-label="Status">${opt('', 'Any status')}${opt('pending', 'Pending')}${opt('approved', 'Approved')}${opt('rejected', 'Rejected')}${opt('expired', 'Expired')}</select>
    <button class="btn">Search</button>
  </form>
  <div class="card flush"><table class="table clickable">
    <thead><tr><th>Requested</th><th>Agent</th><th>Action</th><th class="num">Amount</th><th>Status</th><th>Decided by</th></tr></thead>
    <tbody>${
      items.length
        ? items.map(
            (a) => html`<tr data-href="/console/requests/${a.id}">
      <td><time datetime="${a.createdAt}" data-relative>${a.createdAt}</time></td>
      <td>${chainOf(a).join(' → ')}</td>
      <td><a class="row-link" href="/console/requests/${a.id}">${a.summary.split(' · ')[0]}</a><small class="mono">${a.id}</small></td>
      <td class="num amount">${a.amount ? formatAmount(a.amount) : '—'}</td>
      <td>${statusPill(a)}</td>
      <td>${a.votes.map((v) => v.reviewer).join(', ') || '—'}</td></tr>`,
          )
        : html`<tr class="empty"><td colspan="6"><div class="empty-state"><strong>No requests match.</strong></div></td></tr>`
    }</tbody></table></div>`;
}

interface InputView {
  agent?: { id?: string; owner?: string; team?: string; delegation?: { agent: string; owner?: string; reason?: string }[] };
  action?: { kind?: string; target?: Record<string, unknown>; arguments?: unknown; body?: unknown; amount?: { value: number; currency: string; source?: string } };
  budgets?: Record<string, unknown>;
  context?: { session_id?: string };
  session?: OagfSession;
}

interface DecisionView {
  reasons?: string[];
  explanation?: { rule: string; location?: { file: string; row: number; col: number } }[];
  approvers?: unknown;
}

export interface RequestView {
  approval: Approval;
  user: Reviewer;
  notices: NoticeDelivery[];
  canDecide: boolean;
  /** Why this user cannot decide, when they cannot. */
  blocked?: string;
  flash?: { kind: 'ok' | 'error'; text: string };
  tracePayload?: string;
}

export function requestPage(v: RequestView): Html {
  const a = v.approval;
  const input = a.input as InputView;
  const decision = a.decision as DecisionView;
  const action = input.action ?? {};
  const target = action.target ?? {};
  const args = action.arguments ?? action.body;
  return html`<nav class="crumbs"><a href="/console">Queue</a><span>/</span><span class="mono">${a.id}</span></nav>
  ${v.flash ? html`<div class="alert ${v.flash.kind}" role="status">${v.flash.text}</div>` : ''}
  <section class="hero card">
    <div>
      <div class="eyebrow">${action.kind ?? 'action'} · requested by <strong>${a.agentId}</strong> <time datetime="${a.createdAt}" data-relative>${a.createdAt}</time></div>
      <h1>${a.summary.split(' · ')[0]}</h1>
      ${a.amount ? html`<div class="amount-big" data-amount>${formatAmount(a.amount)}</div>` : ''}
    </div>
    <div class="hero-side">${statusPill(a)}
      ${a.status === 'pending' ? html`<div class="expires">Expires <time datetime="${a.expiresAt}" data-countdown>${a.expiresAt}</time></div>` : ''}
    </div>
  </section>
  <div class="grid">
    <div class="col-main">
      <section class="card warn" data-reasons>
        <h2>Why the policy escalated</h2>
        <ul class="reasons">${(decision.reasons ?? []).map((r) => html`<li>${r}</li>`)}</ul>
        ${
          decision.explanation?.length
            ? html`<details class="explain"><summary>Rules that produced this outcome (${decision.explanation.length})</summary><ul class="mono small">${decision.explanation.map(
                (e) => html`<li>${e.rule}${e.location ? html` <span class="muted">${e.location.file}:${e.location.row}</span>` : ''}</li>`,
              )}</ul></details>`
            : ''
        }
      </section>
      ${input.session ? sessionFlowView(input.session) : ''}
      <section class="card">
        <h2>The action</h2>
        <dl class="kv">
          ${Object.entries(target).map(([k, val]) => html`<dt>${k}</dt><dd class="mono">${String(val)}</dd>`)}
          ${action.amount ? html`<dt>amount</dt><dd><strong>${formatAmount(action.amount)}</strong>${action.amount.source ? html` <span class="muted small">from ${action.amount.source}</span>` : ''}</dd>` : ''}
        </dl>
        ${args !== undefined ? html`<h3>Arguments</h3>${argumentTable(args)}` : ''}
        <dl class="kv digests">
          <dt>action digest</dt><dd class="mono small">${a.actionDigest}</dd>
          <dt>policy bundle</dt><dd class="mono small">${a.policyDigest}</dd>
        </dl>
      </section>
      <section class="card" data-trace>
        <h2>Reasoning trace</h2>
        <p class="muted small">The conversation that led to this action${input.context?.session_id ? html` (session <span class="mono">${input.context.session_id}</span>)` : ''}. Secrets are redacted; the trace is committed in the ledger with the escalation${v.tracePayload ? html` as payload <span class="mono">${v.tracePayload.slice(0, 19)}…</span>` : ''}.</p>
        ${a.trace ? traceView(a.trace) : html`<p class="muted">No conversation was recorded for this action.</p>`}
      </section>
    </div>
    <aside class="col-side">
      ${decisionCard(v)}
      <section class="card">
        <h2>Agent</h2>
        <ol class="chain-list">${(input.agent?.delegation ?? []).map(
          (h) => html`<li><strong>${h.agent}</strong>${h.owner ? html`<small>owner ${h.owner}</small>` : ''}${h.reason ? html`<small class="handoff">handed on: “${h.reason}”</small>` : ''}</li>`,
        )}<li class="current"><strong>${a.agentId}</strong><small>${[input.agent?.owner ? `owner ${input.agent.owner}` : '', input.agent?.team ? `team ${input.agent.team}` : ''].filter(Boolean).join(' · ')}</small></li></ol>
      </section>
      <section class="card" data-budgets>
        <h2>Budget</h2>
        ${budgetView(input.budgets ?? {})}
      </section>
      <section class="card" data-notices>
        <h2>Notices</h2>
        ${
          v.notices.length
            ? html`<ul class="notices">${v.notices.map(
                (n) => html`<li><span class="pill small ${n.status === 'delivered' ? 'approved' : n.status === 'failed' ? 'rejected' : 'pending'}">${n.status}</span> ${n.channel}<small>${n.attempts} attempt${n.attempts === 1 ? '' : 's'}${n.lastError ? ` · ${n.lastError}` : ''}</small></li>`,
              )}</ul>`
            : html`<p class="muted small">No notice channels configured.</p>`
        }
      </section>
      <section class="card">
        <h2>Ledger</h2>
        <ul class="plain">
          <li>Escalation ${a.escalation.index !== undefined ? html`<a href="/console/ledger?index=${a.escalation.index}">entry #${a.escalation.index}</a>` : html`<span class="mono">${a.escalation.id}</span>`}</li>
          ${a.final ? html`<li>Verdict ${a.final.index !== undefined ? html`<a href="/console/ledger?index=${a.final.index}">entry #${a.final.index}</a>` : a.final.id}</li>` : ''}
        </ul>
      </section>
    </aside>
  </div>`;
}

function decisionCard(v: RequestView): Html {
  const a = v.approval;
  const votes = a.votes.length
    ? html`<ul class="votes">${a.votes.map(
        (vote) => html`<li><span class="pill small ${vote.verdict === 'approve' ? 'approved' : 'rejected'}">${vote.verdict === 'approve' ? 'approved' : 'rejected'}</span> <strong>${vote.reviewer}</strong> <time datetime="${vote.time}" data-relative>${vote.time}</time>${vote.comment ? html`<blockquote>${vote.comment}</blockquote>` : ''}</li>`,
      )}</ul>`
    : '';
  const needs = html`<p class="small muted">Needs ${describeRequirement(a.required)}. The agent's owner cannot approve it.</p>`;
  if (a.status !== 'pending') {
    return html`<section class="card decision ${a.status}" data-decision-final><h2>Decision</h2>${statusPill(a)}
      <p class="small">${a.status === 'expired' ? 'Nobody decided before the request expired.' : html`Decided <time datetime="${a.decidedAt ?? ''}" data-relative>${a.decidedAt ?? ''}</time>.`} The verdict is signed with the gatekeeper's approval key and recorded in the ledger.</p>
      ${a.consumedAt ? html`<p class="small"><strong>Carried out</strong> <time datetime="${a.consumedAt}" data-relative>${a.consumedAt}</time> — exactly once.</p>` : ''}
      ${votes}</section>`;
  }
  if (!v.canDecide) {
    return html`<section class="card decision"><h2>Decision</h2>${needs}${votes}<div class="alert info">${v.blocked ?? 'You cannot decide on this request.'}</div></section>`;
  }
  return html`<section class="card decision"><h2>Your decision</h2>${needs}${votes}
    <form method="post" action="/console/requests/${a.id}/decision" class="decide" data-decide>
      <label>Comment<textarea name="comment" rows="3" placeholder="What you checked, or why you reject it"></textarea></label>
      <div class="buttons">
        <button class="btn approve" name="verdict" value="approve" type="submit">Approve</button>
        <button class="btn reject" name="verdict" value="reject" type="submit">Reject</button>
      </div>
    </form></section>`;
}

function argumentTable(args: unknown): Html {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return html`<pre class="code">${JSON.stringify(args, null, 2)}</pre>`;
  return html`<table class="table args"><tbody>${Object.entries(args).map(
    ([k, val]) => html`<tr><th>${k}</th><td class="${typeof val === 'number' ? 'figure' : ''}">${formatValue(k, val)}</td></tr>`,
  )}</tbody></table>`;
}

function formatValue(key: string, v: unknown): Html | string {
  if (typeof v === 'number') return /price|amount|total|cost/i.test(key) ? v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : v.toLocaleString('en-US');
  if (typeof v === 'string') return v;
  return html`<code>${JSON.stringify(v)}</code>`;
}

const actionName = (a: { kind: string; target: Record<string, unknown> }) =>
  a.kind === 'http.request' ? `${a.target.method} ${a.target.api} ${a.target.path}` : a.target.tool ? `${a.kind} ${a.target.tool}` : a.kind;

const labelChip = (label: string, source?: string) => html`<span class="label-chip ${label}" title="${source ?? ''}">${label}</span>`;

/**
 * The flow that led here (input.session): the session's earlier actions with the labels on their results, the ones
 * a label in scope or a flow comes from marked, and for this action which value carries text of which earlier result.
 */
function sessionFlowView(session: OagfSession): Html {
  const sources = new Set([...session.labels.map((l) => l.from.id), ...session.flows.map((f) => f.from.id)]);
  const flowsFrom = (id: string) => session.flows.filter((f) => f.from.id === id);
  return html`<section class="card" data-session-flow>
    <h2>Session flow</h2>
    <p class="muted small">What session <span class="mono">${session.id}</span> did before this action (${session.actions.length} kept). Marked: results whose labels are in scope; below, the values of this action that carry their text.</p>
    <ol class="flow">${session.actions.map(
      (a) => html`<li class="${sources.has(a.id) ? 'source' : ''}" ${sources.has(a.id) ? html`data-flow-source="${a.id}"` : ''}>
        <a class="mono small" href="/console/ledger?index=${a.index}">#${a.index}</a>
        <span class="mono">${actionName(a)}</span>
        <span class="pill small ${a.decision}">${a.decision}</span>${a.outcome ? html` <span class="muted small">${a.outcome}</span>` : ''}
        ${(a.labels ?? []).map((l) => labelChip(l.label, l.source))}${a.labels?.length ? html` <span class="muted small">from ${a.labels.map((l) => l.source).join(', ')}</span>` : ''}
        ${flowsFrom(a.id).length ? html`<span class="muted small">· text found in this action</span>` : ''}
      </li>`,
    )}
      <li class="current" data-flow-current><strong>this action</strong>
        ${
          session.flows.length
            ? html`<ul class="flows">${session.flows.map(
                (f) => html`<li data-flow><span class="mono">${f.path}</span> carries ${f.chars} characters of ${f.labels.map((l) => labelChip(l.label, l.source))} text from <a class="mono" href="/console/ledger?index=${f.from.index}">#${f.from.index}</a> <span class="mono">${actionName(f.from)}</span></li>`,
              )}</ul>`
            : session.labels.length
              ? html`<p class="small">No copied text was found, but ${session.labels.map((l) => labelChip(l.label, l.source))} data is in scope.</p>`
              : ''
        }
      </li>
    </ol>
  </section>`;
}

/** input.budgets as the budgets plug-in fills it: every applicable counter in `limits`. */
function budgetView(budgets: Record<string, unknown>): Html {
  const limits = (budgets as { limits?: BudgetCounter[] }).limits ?? [];
  if (!limits.length) {
    return Object.keys(budgets).length ? html`<pre class="code small">${JSON.stringify(budgets, null, 2)}</pre>` : html`<p class="muted small">No budget applies to this agent.</p>`;
  }
  return html`<ul class="budgets">${limits.map((b) => {
    const money = (v: number) => formatAmount({ value: v, currency: b.currency });
    const used = Math.min(100, ((b.spent + b.reserved) / (b.cap || 1)) * 100);
    const after = b.requested === null ? used : Math.min(100, ((b.spent + b.reserved + b.requested) / (b.cap || 1)) * 100);
    return html`<li><div class="budget-head"><strong>${b.budget}</strong><small>${b.meter === 'llm_spend' ? 'LLM spend' : 'order amounts'} · ${b.window} · ${b.scope} ${b.subject}</small></div>
      <div class="meter" title="spent and reserved; hatched: this request"><span style="width:${used.toFixed(1)}%"></span><span class="request" style="width:${Math.max(0, after - used).toFixed(1)}%"></span></div>
      <small>${money(b.spent)} spent${b.reserved ? ` + ${money(b.reserved)} reserved` : ''} of ${money(b.cap)} · ${money(b.remaining)} left${b.requested !== null ? html` · <strong>this request ${money(b.requested)}</strong>` : ''}</small></li>`;
  })}</ul>`;
}

interface BudgetCounter {
  budget: string;
  scope: string;
  subject: string;
  meter: string;
  window: string;
  currency: string;
  cap: number;
  spent: number;
  reserved: number;
  remaining: number;
  requested: number | null;
}

function traceView(t: ReasoningTrace): Html {
  return html`${t.chain.length > 1 ? html`<div class="trace-chain">${t.chain.map((c, i) => html`${i ? html`<span class="arrow">→</span>` : ''}<span class="agent-chip">${c.agent}</span>`)}</div>` : ''}
  <ol class="trace">${t.steps.map(step)}</ol>`;
}

function step(s: TraceStep): Html {
  const who = html`<span class="agent-chip small">${s.agent}</span>`;
  if (s.kind === 'message') {
    return html`<li class="step msg ${s.role ?? ''}"><div class="step-head">${who}<span class="role">${s.role}</span></div>
      ${s.reasoning ? html`<div class="reasoning"><span class="label">Model reasoning</span>${s.reasoning}</div>` : ''}
      ${s.content ? html`<div class="content">${s.content}</div>` : ''}</li>`;
  }
  if (s.kind === 'tool_result') {
    return html`<li class="step result"><div class="step-head">${who}<span class="role">tool result</span></div><pre class="code small">${s.content ?? ''}</pre></li>`;
  }
  return html`<li class="step call ${s.outcome ?? ''}"><div class="step-head">${who}<span class="role">${s.kind === 'action' ? 'action' : 'tool call'}</span><strong class="mono">${s.tool ?? ''}</strong>${s.outcome ? html`<span class="pill small ${s.outcome === 'allow' ? 'approved' : s.outcome === 'deny' ? 'rejected' : 'pending'}">${s.outcome}</span>` : ''}</div>
    ${s.arguments !== undefined ? html`<pre class="code small">${JSON.stringify(s.arguments, null, 2)}</pre>` : ''}</li>`;
}

export function ledgerPage(query: string): Html {
  return html`<div class="page-head"><div><h1>Ledger</h1><p class="muted">Look up an entry and check, in this browser, that it is included in the signed checkpoint (RFC 9162 inclusion proof, SHA-256 and Ed25519 via WebCrypto).</p></div></div>
  <form class="toolbar" method="get" action="/console/ledger"><input name="q" value="${query}" placeholder="Entry index or record id" aria-label="Entry"><button class="btn">Look up</button></form>
  <div data-ledger-view data-query="${query}">${query ? html`<p class="muted">Loading entry…</p>` : html`<p class="muted">Enter an index (e.g. 0) or a record id.</p>`}</div>`;
}

export function notFoundPage(id: string): Html {
  return html`<div class="card"><div class="empty-state"><strong>No approval request ${id}.</strong><span><a href="/console/history">Search the history</a></span></div></div>`;
}
