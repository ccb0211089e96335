/**
 * A C2SP tlog-witness (https://c2sp.org/tlog-witness): it keeps, per log origin it is configured for, the latest
 * checkpoint it cosigned, and cosigns a new one (C2SP tlog-cosignature/v1, Ed25519) only if it is signed by the
 * log's key and proven consistent with that one. So a log that shows two different trees (a split view), or rolls
 * its tree back, cannot get both cosigned by the same witness. Its state is persisted before it answers.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { HASH_SIZE, bytesEqual, fromBase64Strict, toBase64 } from './hash.js';
import { verifyConsistency } from './merkle.js';
import { cosignatureLine, parseNote, parseSignerKey, parseVerifierKey, verifyNote, SIG_COSIGNATURE_ED25519, SIG_ED25519 } from './note.js';

export interface WitnessOptions {
  /** The witness's cosigner key, PRIVATE+KEY+name+hexid+base64(0x04||seed) (see generateCosignerKey). */
  signingKey: string;
  /** The logs it witnesses: origin and the verifier keys trusted to sign its checkpoints. */
  logs: { origin: string; vkeys: string[] }[];
  /** JSON file holding the latest cosigned checkpoint of each log (created if missing). */
  statePath: string;
  /** Cosignature timestamps (tests); default the clock, in POSIX seconds. */
  now?: () => number;
}

interface LogState {
  size: number;
  root: string;
  checkpoint: string;
}

export interface WitnessResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The protocol's limits: an old size line, up to 63 proof lines, a checkpoint with its signatures. */
const MAX_PROOF_LINES = 63;
export const MAX_REQUEST_BYTES = 64 * 1024;

function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): WitnessResponse {
  return { status, headers: { 'content-type': contentType }, body: body.endsWith('\n') ? body : `${body}\n` };
}

interface AddCheckpoint {
  oldSize: number;
  proof: Uint8Array[];
  note: string;
}

function parseRequest(body: string): AddCheckpoint | string {
  const split = body.indexOf('\n\n');
  if (split < 0) return 'expected an old size line, proof lines, an empty line and a checkpoint';
  const lines = body.slice(0, split).split('\n');
  const old = /^old (0|[1-9][0-9]*)$/.exec(lines[0]!);
  if (!old || !Number.isSafeInteger(Number(old[1]))) return 'the first line must be "old <size>" in decimal without leading zeroes';
  if (lines.length - 1 > MAX_PROOF_LINES) return `more than ${MAX_PROOF_LINES} consistency proof lines`;
  const proof: Uint8Array[] = [];
  for (const line of lines.slice(1)) {
    const hash = fromBase64Strict(line);
    if (!hash || hash.length !== HASH_SIZE) return `consistency proof line ${JSON.stringify(line)} is not a base64 SHA-256 hash`;
    proof.push(hash);
  }
  return { oldSize: Number(old[1]), proof, note: body.slice(split + 2) };
}

export class Witness {
  readonly name: string;
  /** The verifier key of this witness (type 0x04), for logs and clients to trust. */
  readonly vkey: string;
  private readonly key;
  private readonly logs: Map<string, string[]>;
  private state: Record<string, LogState>;
  /** Requests run one at a time: checking the old size and persisting the new state must be atomic. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WitnessOptions) {
    this.key = parseSignerKey(options.signingKey);
    if (this.key.type !== SIG_COSIGNATURE_ED25519) throw new Error(`witness key ${this.key.name} is not a cosigner (0x04) key; make one with 'ledger witness keygen'`);
    this.name = this.key.name;
    this.vkey = this.key.vkey;
    this.logs = new Map();
    for (const log of options.logs) {
      for (const vkey of log.vkeys) {
        if (parseVerifierKey(vkey).type !== SIG_ED25519) throw new Error(`log ${log.origin}: ${vkey.split('+')[0]} is not an Ed25519 log key`);
      }
      this.logs.set(log.origin, [...(this.logs.get(log.origin) ?? []), ...log.vkeys]);
    }
    this.state = this.load();
  }

  private load(): Record<string, LogState> {
    if (!existsSync(this.options.statePath)) return {};
    try {
      const parsed = JSON.parse(readFileSync(this.options.statePath, 'utf8')) as { version: number; logs: Record<string, LogState> };
      if (parsed.version !== 1) throw new Error(`unknown state version ${parsed.version}`);
      return parsed.logs;
    } catch (error) {
      throw new Error(`witness state ${this.options.statePath} is unreadable: ${(error as Error).message}`);
    }
  }

  /** Written to a new file, synced and renamed over the old one: a crash leaves the old state or the new, never half. */
  private persist(state: Record<string, LogState>): void {
    const path = this.options.statePath;
    const partial = `${path}.partial`;
    const fd = openSync(partial, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ version: 1, logs: state }, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, path);
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  /** The latest checkpoint this witness cosigned for an origin (its note as submitted). */
  latest(origin: string): string | undefined {
    return this.state[origin]?.checkpoint;
  }

  /** The add-checkpoint call: the request body in, the HTTP answer out. */
  addCheckpoint(body: string): Promise<WitnessResponse> {
    const run = this.queue.then(() => this.decide(body));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private decide(body: string): WitnessResponse {
    const request = parseRequest(body);
    if (typeof request === 'string') return text(400, request);
    let checkpoint: Checkpoint;
    let noteBody: string;
    try {
      noteBody = parseNote(request.note).text;
      checkpoint = parseCheckpoint(noteBody);
    } catch (error) {
      return text(400, (error as Error).message);
    }
    const vkeys = this.logs.get(checkpoint.origin);
    if (!vkeys) return text(404, `unknown log origin ${checkpoint.origin}`);
    try {
      // Unknown keys' signatures are ignored; a bad one from a trusted key, or none from one, is refused.
      verifyNote(request.note, vkeys);
    } catch (error) {
      return text(403, `checkpoint signature: ${(error as Error).message}`);
    }
    if (request.oldSize > checkpoint.size) return text(400, `old size ${request.oldSize} is larger than the checkpoint size ${checkpoint.size}`);
    const known = this.state[checkpoint.origin];
    const knownSize = known?.size ?? 0;
    if (request.oldSize !== knownSize) return text(409, `${knownSize}`, 'text/x.tlog.size');
    if (request.oldSize === 0 && request.proof.length > 0) return text(422, 'the consistency proof must be empty when the old size is 0');
    if (known && request.oldSize === checkpoint.size) {
      if (!bytesEqual(fromBase64Strict(known.root)!, checkpoint.root)) {
        return text(409, `${knownSize}`, 'text/x.tlog.size');
      }
      if (request.proof.length > 0) return text(422, 'the consistency proof must be empty between equal sizes');
    } else if (known && !verifyConsistency(known.size, checkpoint.size, fromBase64Strict(known.root)!, checkpoint.root, request.proof)) {
      return text(422, `checkpoint of size ${checkpoint.size} is not consistent with the one of size ${known.size} this witness cosigned`);
    }
    const next = { ...this.state, [checkpoint.origin]: { size: checkpoint.size, root: toBase64(checkpoint.root), checkpoint: request.note } };
    this.persist(next);
    this.state = next;
    const time = this.options.now?.() ?? Math.floor(Date.now() / 1000);
    return text(200, cosignatureLine(noteBody, this.key, time));
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The witness's HTTP interface: POST <prefix>/add-checkpoint. */
export function witnessHandler(witness: Witness, prefix = ''): (req: IncomingMessage, res: ServerResponse) => void {
  const path = `${prefix.replace(/\/$/, '')}/add-checkpoint`;
  const send = (res: ServerResponse, answer: WitnessResponse) => {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };
  return (req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (url !== path) return send(res, text(404, `no such endpoint; POST ${path}`));
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, text(405, 'add-checkpoint takes POST'));
    }
    readBody(req, MAX_REQUEST_BYTES)
      .then(async (body) => send(res, body === undefined ? text(413, `request body over ${MAX_REQUEST_BYTES} bytes`) : await witness.addCheckpoint(body)))
      .catch((error: unknown) => send(res, text(500, `witness failed: ${(error as Error).message}`)));
  };
}

/** Runs a witness on host:port; resolves with the server once it listens. */
export async function serveWitness(options: WitnessOptions & { host?: string; port?: number; prefix?: string }): Promise<{ server: Server; witness: Witness; url: string }> {
  const witness = new Witness(options);
  const server = createServer(witnessHandler(witness, options.prefix));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as { address: string; port: number };
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return { server, witness, url: `http://${host}:${address.port}${(options.prefix ?? '').replace(/\/$/, '')}` };
}
