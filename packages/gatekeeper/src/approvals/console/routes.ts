/**
 * The reviewer console at /console: sign-in, the live pending queue (server-sent events), request pages with
 * approve/reject, searchable history, and a ledger view whose inclusion proofs the browser checks itself.
 * The same routes offer a small JSON API under /console/api for the `gatekeeper approvals` CLI (HTTP Basic).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { canonicalJson, parseCheckpoint, verifyNote, type Ledger } from '@oagf/ledger';
import type { Accounts } from '../accounts.js';
import { canDecide } from '../accounts.js';
import { APPROVALS_TOPIC, hasVoted, ownsRequest, type ApprovalService } from '../service.js';
import { ApprovalError, type Approval, type ApprovalStatus, type Reviewer, type Verdict } from '../types.js';
import { GateHttpError, type ErrorKind } from '../../http/errors.js';
import { readBody, respondError, sendJson, type Router } from '../../http/router.js';
import type { Notifier } from '../../stores/notifier.js';
import type { SessionStore } from '../../stores/sessions.js';
import { historyPage, layout, ledgerPage, loginPage, notFoundPage, queuePage, queueRows, requestPage, signedInPage, type PageFrame } from './pages.js';
import { OIDC_COOKIE, OidcSignIn, SignInError } from './oidc.js';
import { cookieOf, Sessions } from './sessions.js';
import type { LoginThrottle } from './throttle.js';

export interface ConsoleDeps {
  service: ApprovalService;
  accounts: Accounts;
  sessions: SessionStore;
  notifier: Notifier;
  sessionTtlMs: number;
  throttle: LoginThrottle;
  ledger?: Ledger;
  /** Verifier keys (C2SP vkey) of the ledger's checkpoint signer, shown to the browser for the signature check. */
  ledgerKeys: string[];
  /** Single sign-on, when `approvals.console.oidc` is configured. */
  oidc?: OidcSignIn;
  /** Whether local accounts are configured (the password form is shown only then). */
  localAccounts: boolean;
}

// From the sources, or from dist/ (tsc does not copy these files there).
const STATIC_DIR = [new URL('./static/', import.meta.url), new URL('../../../src/approvals/console/static/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(dir))!;
const STATIC_TYPES: Record<string, string> = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8', svg: 'image/svg+xml' };

/** Approval errors as error kinds (the status codes are in the gatekeeper's one table, http/errors.ts). */
const KIND: Record<ApprovalError['code'], ErrorKind> = {
  not_found: 'not_found',
  forbidden: 'forbidden',
  self_approval: 'forbidden',
  not_eligible: 'forbidden',
  not_pending: 'conflict',
  expired: 'conflict',
  already_voted: 'conflict',
  digest_mismatch: 'conflict',
  wrong_agent: 'conflict',
  already_used: 'conflict',
  rejected: 'conflict',
  pending: 'conflict',
};

const httpError = (err: ApprovalError) => new GateHttpError(KIND[err.code], err.message, undefined, undefined, err.code);

export function registerConsoleRoutes(router: Router, deps: ConsoleDeps): void {
  const { service } = deps;
  const sessions = new Sessions(deps.accounts, deps.sessions, deps.sessionTtlMs, deps.throttle);

  const page = async (res: ServerResponse, frame: Omit<PageFrame, 'pending'>, status = 200, headers: Record<string, string> = {}) => {
    const body = layout({ ...frame, pending: await service.store.count('pending') });
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers });
    res.end(body);
  };

  /** The signed-in reviewer, or a redirect to the sign-in page. */
  const signedIn = async (req: IncomingMessage, res: ServerResponse): Promise<Reviewer | undefined> => {
    const user = await sessions.who(req);
    if (!user) redirect(res, `/console/login?next=${encodeURIComponent(req.url ?? '/console')}`);
    return user;
  };

  router.add('GET', '/console/static/:file', (_req, res, ctx) => {
    const file = ctx.params.file!;
    const type = STATIC_TYPES[file.split('.').pop() ?? ''];
    if (!/^[a-z0-9-]+\.[a-z]+$/.test(file) || !type || !existsSync(`${STATIC_DIR}/${file}`)) return notFound(res);
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
    res.end(readFileSync(`${STATIC_DIR}/${file}`));
  });

  const signIn = { local: deps.localAccounts || !deps.oidc, ...(deps.oidc ? { sso: { label: deps.oidc.label } } : {}) };
  const loginFailed = (res: ServerResponse, message: string, next: string, status: number, headers: Record<string, string> = {}) =>
    page(res, { title: 'Sign in', body: loginPage(message, next, signIn) }, status, headers);

  router.add('GET', '/console/login', async (req, res, ctx) => {
    const next = safeNext(new URLSearchParams(ctx.query).get('next'));
    if (await sessions.who(req)) return redirect(res, next);
    await page(res, { title: 'Sign in', body: loginPage(undefined, next, signIn) });
  });

  const { oidc } = deps;
  if (oidc) {
    router.add('GET', '/console/oidc/login', async (req, res, ctx) => {
      const next = safeNext(new URLSearchParams(ctx.query).get('next'));
      try {
        const started = await oidc.start(next, secureRequest(req));
        res.writeHead(303, { location: started.url, 'set-cookie': started.cookie, 'cache-control': 'no-store' });
        res.end();
      } catch (err) {
        if (!(err instanceof SignInError)) throw err;
        await loginFailed(res, `Single sign-on is unavailable: ${err.message}.`, next, err.status);
      }
    });

    router.add('GET', '/console/oidc/callback', async (req, res, ctx) => {
      const clear = { 'set-cookie': OidcSignIn.clearCookie() };
      let signedIn: { reviewer: Reviewer; next: string };
      try {
        signedIn = await oidc.finish(ctx.query, cookieOf(req, OIDC_COOKIE));
      } catch (err) {
        if (!(err instanceof SignInError)) throw err;
        return loginFailed(res, `Sign-in failed: ${err.message}.`, '/console', err.status, clear);
      }
      const { reviewer } = signedIn;
      const local = deps.accounts.samePersonAs(reviewer.username);
      if (local) {
        // One person, one identity: otherwise two approvals of an N-of-M rule could come from one reviewer.
        return loginFailed(res, `Sign-in failed: ${reviewer.username} may be the same person as the local account "${local}"; remove one of them.`, '/console', 403, clear);
      }
      const next = safeNext(signedIn.next);
      const token = await sessions.create(reviewer, 'oidc');
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        ...SECURITY_HEADERS,
        'set-cookie': [sessions.cookie(token, secureRequest(req)), OidcSignIn.clearCookie()],
      } as Record<string, string | string[]>);
      res.end(layout({ title: 'Signed in', refresh: next, body: signedInPage(reviewer, next), pending: 0 }));
    });
  }

  router.add('POST', '/console/login', async (req, res) => {
    if (!sameOrigin(req)) return forbidden(res);
    const form = new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));
    const next = safeNext(form.get('next'));
    const result = await sessions.signIn(req, form.get('username') ?? '', form.get('password') ?? '');
    if (!result.ok && result.throttled) {
      const t = result.throttled;
      return loginFailed(res, `Too many sign-in attempts: ${t.message}.`, next, 429, { 'retry-after': String(t.retryAfterS) });
    }
    if (!result.ok) return loginFailed(res, 'Wrong username or password.', next, 401);
    const user = result.reviewer;
    res.writeHead(303, { location: next, 'set-cookie': sessions.cookie(await sessions.create(user.username), secureRequest(req)) });
    res.end();
  });

  router.add('POST', '/console/logout', async (req, res) => {
    if (!sameOrigin(req)) return forbidden(res);
    const via = await sessions.via(req);
    await sessions.end(req);
    // A single sign-on session also ends at the provider, which sends the browser back to the sign-in page.
    const location = (via === 'oidc' ? await oidc?.logoutUrl() : undefined) ?? '/console/login';
    res.writeHead(303, { location, 'set-cookie': Sessions.clearCookie(), 'cache-control': 'no-store' });
    res.end();
  });

  router.add('GET', '/console', async (req, res) => {
    const user = await signedIn(req, res);
    if (user) await page(res, { title: 'Queue', user, active: 'queue', body: queuePage(await service.list({ status: ['pending'] })) });
  });

  router.add('GET', '/console/', (_req, res) => redirect(res, '/console'));

  router.add('GET', '/console/history', async (req, res, ctx) => {
    const user = await signedIn(req, res);
    if (!user) return;
    const params = new URLSearchParams(ctx.query);
    const q = params.get('q')?.trim() ?? '';
    const status = params.get('status') ?? '';
    const items = await service.list({ ...(q ? { text: q } : {}), ...(isStatus(status) ? { status: [status] } : {}), limit: 500 });
    await page(res, { title: 'History', user, active: 'history', body: historyPage(items, q, status) });
  });

  router.add('GET', '/console/requests/:id', async (req, res, ctx) => {
    const user = await signedIn(req, res);
    if (!user) return;
    const approval = await service.get(ctx.params.id!);
    if (!approval) return page(res, { title: 'Not found', user, body: notFoundPage(ctx.params.id!) }, 404);
    const flash = flashOf(new URLSearchParams(ctx.query));
    await page(res, { title: approval.summary, user, active: 'queue', body: requestPage(await requestView(approval, user, flash)) });
  });

  router.add('POST', '/console/requests/:id/decision', async (req, res, ctx) => {
    const user = await signedIn(req, res);
    if (!user) return;
    if (!sameOrigin(req)) return forbidden(res);
    const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
    const verdict = form.get('verdict');
    const id = ctx.params.id!;
    const back = `/console/requests/${encodeURIComponent(id)}`;
    if (verdict !== 'approve' && verdict !== 'reject') return redirect(res, `${back}?error=${encodeURIComponent('Choose approve or reject.')}`);
    try {
      const a = await service.decide(id, user, verdict, (form.get('comment') ?? '').trim().slice(0, 2000));
      const done = a.status === 'pending' ? 'Your approval is recorded; more approvals are needed.' : `Request ${a.status}. The signed verdict is in the ledger.`;
      redirect(res, `${back}?ok=${encodeURIComponent(done)}`);
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      redirect(res, `${back}?error=${encodeURIComponent(err.message)}`);
    }
  });

  router.add('GET', '/console/ledger', async (req, res, ctx) => {
    const user = await signedIn(req, res);
    if (!user) return;
    const params = new URLSearchParams(ctx.query);
    const q = params.get('q') ?? params.get('index') ?? '';
    await page(res, { title: 'Ledger', user, active: 'ledger', body: ledgerPage(q.trim()) });
  });

  router.add('GET', '/console/events', async (req, res) => {
    if (!(await sessions.who(req, true))) return unauthorized(res);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    // Every change, made by this process or (with a shared store) another, arrives through the notifier.
    const unsubscribe = deps.notifier.subscribe(APPROVALS_TOPIC, (n) => res.write(`event: ${n.event}\ndata: ${JSON.stringify({ id: n.id, status: n.status })}\n\n`));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  // JSON API (cookie or HTTP Basic), used by the console's scripts and the CLI.
  router.add('GET', '/console/api/queue', async (req, res) => {
    if (!(await sessions.who(req, true))) return unauthorized(res);
    const items = await service.list({ status: ['pending'] });
    sendJson(res, 200, { count: items.length, rows: queueRows(items).text });
  });

  router.add('GET', '/console/api/approvals', async (req, res, ctx) => {
    if (!(await sessions.who(req, true))) return unauthorized(res);
    const params = new URLSearchParams(ctx.query);
    const statuses = (params.get('status') ?? '').split(',').filter(isStatus);
    const q = params.get('q') ?? '';
    const found = await service.list({ ...(statuses.length ? { status: statuses } : {}), ...(q ? { text: q } : {}) });
    sendJson(res, 200, { approvals: found.map(brief) });
  });

  router.add('GET', '/console/api/approvals/:id', async (req, res, ctx) => {
    if (!(await sessions.who(req, true))) return unauthorized(res);
    const a = await service.get(ctx.params.id!);
    if (!a) throw new GateHttpError('not_found', `no approval ${ctx.params.id}`);
    sendJson(res, 200, { approval: a, notices: await service.store.notices(a.id) });
  });

  router.add('POST', '/console/api/approvals/:id/decision', async (req, res, ctx) => {
    const user = await sessions.who(req, true);
    if (!user) return unauthorized(res);
    if (!sameOrigin(req)) return forbidden(res);
    let body: { verdict?: unknown; comment?: unknown };
    try {
      body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
    } catch {
      throw new GateHttpError('bad_request', 'body must be JSON {"verdict": "approve"|"reject", "comment": "..."}');
    }
    if (body.verdict !== 'approve' && body.verdict !== 'reject') throw new GateHttpError('bad_request', 'verdict must be "approve" or "reject"');
    try {
      const a = await service.decide(ctx.params.id!, user, body.verdict as Verdict, typeof body.comment === 'string' ? body.comment.slice(0, 2000) : '');
      sendJson(res, 200, { approval: a });
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      throw httpError(err);
    }
  });

  router.add('GET', '/console/api/ledger/entry', async (req, res, ctx) => {
    if (!(await sessions.who(req, true))) return unauthorized(res);
    const ledger = deps.ledger;
    if (!ledger) throw new GateHttpError('not_found', 'this gatekeeper has no ledger attached');
    const q = (new URLSearchParams(ctx.query).get('q') ?? '').trim();
    const found = /^\d+$/.test(q) ? await ledgerEntryAt(ledger, Number(q)) : await ledger.findById(q);
    if (!found) throw new GateHttpError('not_found', `no ledger entry ${JSON.stringify(q)}`);
    let checkpoint = ledger.latestCheckpoint();
    if (!checkpoint || parseCheckpoint(checkpoint).size <= found.index) checkpoint = await ledger.checkpointNow();
    const size = parseCheckpoint(checkpoint).size;
    sendJson(res, 200, {
      index: found.index,
      record: found.record,
      entry: Buffer.from(canonicalJson(found.record)).toString('base64'),
      size,
      proof: (await ledger.inclusionProof(found.index, size)).map((h) => Buffer.from(h).toString('base64')),
      checkpoint,
      keys: deps.ledgerKeys,
    });
  });

  // The online twin of `ledger verify --checkpoint`: is this ledger still a consistent extension of a checkpoint an
  // auditor saved earlier (or a witness cosigned)? Deleting the newest entries, or rewriting any, is caught here.
  router.add('POST', '/console/api/ledger/checkpoint', async (req, res) => {
    if (!(await sessions.who(req, true))) return unauthorized(res);
    if (!sameOrigin(req)) return forbidden(res);
    const ledger = deps.ledger;
    if (!ledger) throw new GateHttpError('not_found', 'this gatekeeper has no ledger attached');
    const note = (await readBody(req, 64 * 1024)).toString('utf8');
    sendJson(res, 200, await checkSavedCheckpoint(ledger, note, deps.ledgerKeys));
  });

  router.add('GET', '/console/api/ledger/payload', async (req, res, ctx) => {
    if (!(await sessions.who(req, true))) return unauthorized(res);
    const digest = new URLSearchParams(ctx.query).get('digest') ?? '';
    const data = /^sha256:[0-9a-f]{64}$/.test(digest) ? await deps.ledger?.getPayload(digest) : undefined;
    if (!data) throw new GateHttpError('not_found', `no payload ${JSON.stringify(digest)} (never stored, or removed by retention)`);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length, 'cache-control': 'no-store' });
    res.end(data);
  });

  async function requestView(approval: Approval, user: Reviewer, flash?: { kind: 'ok' | 'error'; text: string }) {
    const blocked = !canDecide(user)
      ? `You are signed in as ${user.roles.join(', ')}: only reviewers and admins decide.`
      : hasVoted(approval, user.username)
        ? 'You have already decided on this request.'
        : ownsRequest(approval, user.username)
          ? `You own agent ${approval.agentId} or an agent that handed it this work: someone else must approve its request (four eyes).`
          : undefined;
    const tracePayload = approval.escalation.index !== undefined ? (await deps.ledger?.getRecord(approval.escalation.index))?.payloads?.trace : undefined;
    return {
      approval,
      user,
      notices: await service.store.notices(approval.id),
      canDecide: !blocked,
      ...(blocked ? { blocked } : {}),
      ...(flash ? { flash } : {}),
      ...(tracePayload ? { tracePayload } : {}),
    };
  }
}

/** A saved checkpoint against the live ledger: signed by a trusted key, this log's, and its root the root at its size. */
async function checkSavedCheckpoint(ledger: Ledger, note: string, keys: string[]) {
  const size = ledger.size();
  const refuse = (problem: string) => ({ consistent: false, current_size: size, problem });
  let saved;
  try {
    verifyNote(note, keys);
    saved = parseCheckpoint(note);
  } catch (err) {
    return refuse(`not a checkpoint signed by this ledger's key: ${(err as Error).message}`);
  }
  const origin = parseCheckpoint(ledger.latestCheckpoint() ?? (await ledger.checkpointNow())).origin;
  if (saved.origin !== origin) return refuse(`the checkpoint is for origin ${saved.origin}, not ${origin}`);
  if (saved.size > size) return refuse(`the checkpoint covers ${saved.size} entries, the ledger holds ${size}: entries were removed (truncation)`);
  const root = await ledger.rootAt(saved.size);
  if (Buffer.compare(Buffer.from(root), Buffer.from(saved.root)) !== 0) {
    return refuse(`the ledger's first ${saved.size} entries no longer hash to the checkpoint's root: they were rewritten`);
  }
  return { consistent: true, saved_size: saved.size, current_size: size };
}

async function ledgerEntryAt(ledger: Ledger, index: number) {
  const record = await ledger.getRecord(index);
  return record ? { index, record } : undefined;
}

const SECURITY_HEADERS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

const STATUSES: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired'];
const isStatus = (s: string): s is ApprovalStatus => (STATUSES as string[]).includes(s);

function brief(a: Approval) {
  return {
    id: a.id,
    status: a.status,
    agent: a.agentId,
    owner: a.agentOwner,
    summary: a.summary,
    amount: a.amount,
    created_at: a.createdAt,
    expires_at: a.expiresAt,
    consumed_at: a.consumedAt,
    votes: a.votes,
    reasons: (a.decision as { reasons?: string[] }).reasons ?? [],
  };
}

function flashOf(params: URLSearchParams): { kind: 'ok' | 'error'; text: string } | undefined {
  const ok = params.get('ok');
  const error = params.get('error');
  if (error) return { kind: 'error', text: error.slice(0, 300) };
  if (ok) return { kind: 'ok', text: ok.slice(0, 300) };
  return undefined;
}

/** Only same-site relative paths under /console, so the sign-in page cannot be used as an open redirect. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/console') && !next.startsWith('//') ? next : '/console';
}

/** Behind a TLS-terminating proxy the console is served over HTTPS: its cookies are then Secure. */
function secureRequest(req: IncomingMessage): boolean {
  return (req.headers['x-forwarded-proto'] ?? '') === 'https';
}

/** Form posts must come from the console itself (the cookie is SameSite=Strict too). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (req.headers['sec-fetch-site'] && !['same-origin', 'none'].includes(String(req.headers['sec-fetch-site']))) return false;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store' });
  res.end();
}

function unauthorized(res: ServerResponse): void {
  const message = 'sign in to the console, or send HTTP Basic credentials of a console account';
  respondError(res, new GateHttpError('unauthenticated', message, undefined, { 'www-authenticate': 'Basic realm="gatekeeper console"' }));
}

function forbidden(res: ServerResponse): void {
  respondError(res, new GateHttpError('forbidden', 'cross-site request refused'));
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}

