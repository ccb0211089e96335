/**
 * The log side of C2SP tlog-witness: submits each new checkpoint, with a consistency proof from the size the
 * witness last cosigned, to the configured witnesses, and keeps the checkpoint with the cosignatures they returned,
 * to serve at /checkpoint.
 */
import { parseCheckpoint } from './checkpoint.js';
import { toBase64 } from './hash.js';
import type { Ledger } from './ledger.js';
import { parseVerifierKey, verifyNote } from './note.js';
import type { TilesHandler } from './tiles.js';

export interface WitnessEndpoint {
  /** Submission prefix: add-checkpoint is POSTed to `${url}/add-checkpoint`. */
  url: string;
  /** The witness's cosigner verifier key (type 0x04); its cosignatures are checked against it. */
  vkey: string;
}

export class WitnessRefusal extends Error {
  /** For a witness that holds a larger tree than the checkpoint submitted: the size it holds. */
  readonly heldSize?: number;
  constructor(readonly witness: string, readonly status: number, message: string, heldSize?: number) {
    super(`witness ${witness} refused the checkpoint (${status}): ${message}`);
    if (heldSize !== undefined) this.heldSize = heldSize;
  }
}

type Consistency = (size1: number, size2: number) => Promise<Uint8Array[]>;

/**
 * Asks one witness to cosign `note`. `knownSize` is the size it last cosigned, if known: otherwise its 409 answer
 * tells it, and the request is made again with a proof from there (a few times: other submitters of the same log
 * may move it meanwhile). Resolves with its cosignature lines and the size it now holds. A 409 that names the
 * witness's size rejects with that size in `heldSize`.
 */
export async function requestCosignature(witness: WitnessEndpoint, note: string, knownSize: number, consistency: Consistency): Promise<{ lines: string; size: number }> {
  const name = parseVerifierKey(witness.vkey).name;
  const size = parseCheckpoint(note).size;
  let old = Math.min(knownSize, size);
  for (let attempt = 0; attempt < 4; attempt++) {
    const proof = old === 0 || old === size ? [] : await consistency(old, size);
    const body = `old ${old}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${note}`;
    const response = await fetch(`${witness.url.replace(/\/$/, '')}/add-checkpoint`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    const answer = await response.text();
    if (response.status === 200) {
      const lines = answer.split('\n').filter((line) => line.length > 0).map((line) => `${line}\n`);
      // Keep only what verifies against the witness's key; a reply without one is a refusal.
      const own = lines.filter((line) => {
        try {
          return verifyNote(`${note}${line}`, [witness.vkey]).includes(name);
        } catch {
          return false;
        }
      });
      if (own.length === 0) throw new WitnessRefusal(name, 200, 'no cosignature by its key in the reply');
      return { lines: own.join(''), size };
    }
    const held = Number(answer.trim());
    if (response.status === 409 && response.headers.get('content-type')?.startsWith('text/x.tlog.size') && Number.isSafeInteger(held)) {
      if (held > size) throw new WitnessRefusal(name, 409, `it cosigned a larger tree (size ${held}) than this checkpoint (${size}): the log lost entries or was rewritten`, held);
      if (held !== old) {
        old = held;
        continue;
      }
    }
    throw new WitnessRefusal(name, response.status, answer.trim());
  }
  throw new WitnessRefusal(name, 409, `its size kept changing (now ${old}): other submitters of this log`, old);
}

export interface WitnessedLog {
  /** The latest checkpoint cosigned by at least one witness, with every cosignature obtained for it. */
  cosigned(): string | undefined;
  /** Submits the ledger's latest checkpoint to every witness now; resolves with the cosigned note (or rejects if none cosigned). */
  submit(): Promise<string>;
  /** The ledger's tiles, with /checkpoint answered by the cosigned checkpoint once there is one. */
  tiles(): TilesHandler;
  close(): void;
}

/**
 * Keeps the ledger's checkpoints witnessed: every `everyMs` a new checkpoint goes to each witness. Failures are
 * reported to onError and tried again with the next round; they never touch the ledger.
 *
 * Several replicas of one shared ledger each submit: one that has not yet seen the newest checkpoint may find the
 * witness already holding a larger tree, cosigned through another replica. That replica is only behind: it is
 * reported only if, `behindGraceMs` later, this ledger still holds fewer entries than the witness cosigned (the
 * log lost entries or was rewritten). Its next checkpoint is submitted as usual, from the size the witness named.
 */
export function witnessCheckpoints(
  ledger: Ledger,
  options: { witnesses: WitnessEndpoint[]; everyMs?: number; behindGraceMs?: number; onError?: (witness: string, error: Error) => void },
): WitnessedLog {
  const known = new Map<string, number>();
  const behindChecks = new Map<string, NodeJS.Timeout>();
  const report = (w: WitnessEndpoint, error: Error) => options.onError?.(parseVerifierKey(w.vkey).name, error);

  /** A witness ahead of this ledger: behind (nothing to say) once the ledger holds as many entries, else reported. */
  function checkBehind(w: WitnessEndpoint, error: WitnessRefusal & { heldSize: number }): void {
    if (ledger.size() >= error.heldSize || behindChecks.has(w.url)) return;
    const check = setTimeout(() => {
      behindChecks.delete(w.url);
      if (ledger.size() < error.heldSize) report(w, error);
    }, options.behindGraceMs ?? 5000);
    check.unref();
    behindChecks.set(w.url, check);
  }
  let cosigned: string | undefined;
  let submitted: string | undefined;
  let running: Promise<string> | undefined;

  async function submitNote(note: string): Promise<string> {
    const results = await Promise.allSettled(
      options.witnesses.map(async (w) => {
        try {
          const result = await requestCosignature(w, note, known.get(w.url) ?? 0, (a, b) => ledger.consistencyProof(a, b));
          known.set(w.url, result.size);
          return result.lines;
        } catch (error) {
          if (error instanceof WitnessRefusal && error.heldSize !== undefined) known.set(w.url, error.heldSize);
          throw error;
        }
      }),
    );
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const w = options.witnesses[i]!;
      if (r.reason instanceof WitnessRefusal && r.reason.heldSize !== undefined) checkBehind(w, r.reason as WitnessRefusal & { heldSize: number });
      else report(w, r.reason as Error);
    });
    const lines = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (lines.length === 0) throw new Error(`no witness cosigned the checkpoint of size ${parseCheckpoint(note).size}`);
    // The log's signature lines, then the witnesses' cosignature lines.
    cosigned = `${note}${lines.join('')}`;
    return cosigned;
  }

  function submit(): Promise<string> {
    running ??= (async () => {
      try {
        const note = ledger.latestCheckpoint() ?? (await ledger.checkpointNow());
        submitted = note;
        return await submitNote(note);
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const timer = setInterval(() => {
    const latest = ledger.latestCheckpoint();
    if (latest && latest !== submitted && !running) submit().catch(() => undefined);
  }, options.everyMs ?? 1000);
  timer.unref();

  return {
    cosigned: () => cosigned,
    submit,
    tiles() {
      const tiles = ledger.tiles();
      return async (path) => {
        if (path.split('?')[0] !== '/checkpoint' || !cosigned) return tiles(path);
        return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: cosigned };
      };
    },
    close: () => {
      clearInterval(timer);
      for (const check of behindChecks.values()) clearTimeout(check);
    },
  };
}
