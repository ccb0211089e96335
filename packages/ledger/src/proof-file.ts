import { parseCheckpoint } from './checkpoint.js';
import { HASH_SIZE, fromBase64Strict, hashLeaf, toBase64 } from './hash.js';
import { verifyInclusion } from './merkle.js';
import { verifyNote } from './note.js';

const HEADER = 'c2sp.org/tlog-proof@v1';

/** A C2SP tlog-proof: checkpoint, entry index, inclusion proof, optional unauthenticated extra data. */
export interface ProofFile {
  index: number;
  proof: Uint8Array[];
  checkpoint: string;
  extra?: Uint8Array;
}

export function formatProofFile(p: ProofFile): string {
  const lines = [HEADER];
  if (p.extra) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`, ...p.proof.map(toBase64));
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

export function parseProofFile(text: string): ProofFile {
  const lines = text.split('\n');
  let at = 0;
  if (lines[at++] !== HEADER) throw new Error(`malformed proof: first line must be ${HEADER}`);
  let extra: Uint8Array | undefined;
  if (lines[at]?.startsWith('extra ')) {
    extra = fromBase64Strict(lines[at++]!.slice('extra '.length));
    if (!extra) throw new Error('malformed proof: extra line is not base64');
  }
  const indexMatch = /^index (0|[1-9][0-9]*)$/.exec(lines[at++] ?? '');
  if (!indexMatch || !Number.isSafeInteger(Number(indexMatch[1]))) throw new Error('malformed proof: expected an "index N" line');
  const proof: Uint8Array[] = [];
  while (at < lines.length && lines[at] !== '') {
    const hash = fromBase64Strict(lines[at]!);
    if (!hash || hash.length !== HASH_SIZE) throw new Error(`malformed proof: line ${at + 1} is not a base64 SHA-256 hash`);
    proof.push(hash);
    at++;
  }
  if (at >= lines.length) throw new Error('malformed proof: no blank line before the checkpoint');
  const checkpoint = lines.slice(at + 1).join('\n');
  return { index: Number(indexMatch[1]), proof, checkpoint, ...(extra ? { extra } : {}) };
}

export interface ProofVerification {
  index: number;
  size: number;
  origin: string;
  /** Names of the trusted keys (log and witnesses) that signed the checkpoint. */
  signers: string[];
  entry: Uint8Array;
}

/**
 * Checks a tlog-proof offline: the checkpoint must be signed by a trusted key, and the entry (given, or taken
 * from the extra line) must be included at the index in the checkpointed tree. Throws naming what failed.
 */
export function verifyProofFile(text: string, vkeys: string[], options: { entry?: Uint8Array; origin?: string } = {}): ProofVerification {
  const proof = parseProofFile(text);
  const signers = verifyNote(proof.checkpoint, vkeys);
  const checkpoint = parseCheckpoint(proof.checkpoint);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new Error(`proof is for log ${checkpoint.origin}, expected ${options.origin}`);
  }
  const entry = options.entry ?? proof.extra;
  if (!entry) throw new Error('proof carries no entry (no extra line); supply the entry');
  if (!verifyInclusion(proof.index, checkpoint.size, hashLeaf(entry), proof.proof, checkpoint.root)) {
    throw new Error(`inclusion proof does not verify: entry ${proof.index} is not in ${checkpoint.origin} at size ${checkpoint.size}`);
  }
  return { index: proof.index, size: checkpoint.size, origin: checkpoint.origin, signers, entry };
}
