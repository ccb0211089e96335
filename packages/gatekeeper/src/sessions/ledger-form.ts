/**
 * How `input.session` is kept in the ledger: every decision's `input` payload would otherwise copy the whole
 * history it saw (20 actions at 20 actions of history), to be redacted, serialised and stored again each time. The
 * payload keeps `session.history` instead of `session.actions`:
 *
 *   refs   one per action the decision saw, in order: "<ledger index>:<first 16 hex of sha256 of its JSON form>"
 *   added  the forms (by ref) this process has not yet committed in an earlier payload
 *
 * A form is the input form of one state of an earlier action (its outcome may change later: a new form, a new
 * ref); a ref names its content, so one this process already committed in an earlier payload of the session is
 * exactly that value. The refs of a form are computed once (forms are immutable snapshots, sessions/summary.ts). Replay reads the ledger in order and rebuilds `actions` from the refs
 * (`HistoryRebuilder`); a ref whose form it has not seen (its payload deleted by retention) makes that decision
 * unreplayable, and it says so.
 */
import { hash } from 'node:crypto';
import type { OagfSession, OagfSessionAction } from '../spec/index.js';

export interface LedgerHistory {
  refs: string[];
  added: Record<string, OagfSessionAction>;
}

/** The session as the ledger keeps it: `history` in place of `actions`. */
export type LedgerSession = Omit<OagfSession, 'actions'> & { history: LedgerHistory };

const refs = new WeakMap<OagfSessionAction, string>();

function refOf(action: OagfSessionAction): string {
  let ref = refs.get(action);
  if (ref === undefined) {
    ref = `${action.index}:${hash('sha256', JSON.stringify(action)).slice(0, 16)}`;
    refs.set(action, ref);
  }
  return ref;
}

/** Sessions whose committed refs a recorder remembers (a session it forgot writes its forms again, once). */
const REMEMBERED_SESSIONS = 4096;

/** The refs of a history's actions (summary.ts hands out one frozen array per history): computed once per array. */
const refLists = new WeakMap<readonly OagfSessionAction[], string[]>();

function refsOf(actions: readonly OagfSessionAction[]): string[] {
  let ids = refLists.get(actions);
  if (!ids) refLists.set(actions, (ids = Object.freeze(actions.map(refOf)) as string[]));
  return ids;
}

interface Held {
  refs: Set<string>;
  /** The actions of the session's latest committed decision: every one of their forms is in `refs`. */
  actions?: readonly OagfSessionAction[];
}

/** One per gatekeeper process: which forms its committed payloads already hold, per session. */
export class HistoryRecorder {
  private readonly committedRefs = new Map<string, Held>();

  ledgerForm(session: OagfSession): LedgerSession {
    const { id, digest, repeats, actions, totals, labels, flows } = session;
    const held = this.committedRefs.get(id);
    const added: Record<string, OagfSessionAction> = {};
    const ids = refsOf(actions);
    // The same history as the latest committed decision (the next decision of the same request, usually): nothing new.
    if (held?.actions !== actions) {
      for (let i = 0; i < ids.length; i++) if (!held?.refs.has(ids[i]!)) added[ids[i]!] = actions[i]!;
    }
    return { id, digest, repeats, totals, labels, flows, history: { refs: ids, added } };
  }

  /** The decision's record (with its payload) is durable: later payloads of the session may refer to its forms. */
  committed(session: OagfSession): void {
    const held = this.committedRefs.get(session.id) ?? { refs: new Set<string>() };
    this.committedRefs.delete(session.id); // re-inserted: most recently used last
    if (this.committedRefs.size >= REMEMBERED_SESSIONS) this.committedRefs.delete(this.committedRefs.keys().next().value!);
    this.committedRefs.set(session.id, held);
    if (held.actions === session.actions) return;
    // Only the session's current actions: a form of an action that left the history is never referred to again.
    const live = new Set(session.actions.map((a) => a.index));
    for (const ref of held.refs) if (!live.has(indexOf(ref))) held.refs.delete(ref);
    for (const ref of refsOf(session.actions)) held.refs.add(ref);
    held.actions = session.actions;
  }
}

const indexOf = (ref: string): number => Number(ref.slice(0, ref.indexOf(':')));

/** Replay's side: fed every decision's `input.session` in ledger order, gives back `actions`. */
export class HistoryRebuilder {
  /** Per session id, the forms of the actions its latest decisions referred to. */
  private readonly known = new Map<string, Map<string, OagfSessionAction>>();

  /** The session with `actions` rebuilt; undefined when a referenced form is not in the ledger (any more). */
  rebuild(session: OagfSession | LedgerSession): OagfSession | undefined {
    if (!('history' in session)) return session; // recorded before the history was kept by reference
    const { history, ...rest } = session;
    const known = this.known.get(session.id) ?? new Map<string, OagfSessionAction>();
    for (const [ref, form] of Object.entries(history.added)) known.set(ref, form);
    const actions = history.refs.map((ref) => known.get(ref));
    // Keep the forms of the actions still in the history (another replica may still refer to an older form of one).
    const live = new Set(history.refs.map(indexOf));
    for (const ref of known.keys()) if (!live.has(indexOf(ref))) known.delete(ref);
    this.known.set(session.id, known);
    if (actions.some((a) => a === undefined)) return undefined;
    return { ...rest, actions: actions as OagfSessionAction[] };
  }
}
