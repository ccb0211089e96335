import { HASH_SIZE, fromBase64Strict, toBase64 } from './hash.js';
import { parseNote, signNote } from './note.js';

/** C2SP tlog-checkpoint body: origin, decimal size, base64 root hash, optional extension lines. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

export function formatCheckpoint(origin: string, size: number, root: Uint8Array): string {
  if (origin.length === 0 || /[\n\u0000-\u001f]/.test(origin)) throw new Error(`invalid checkpoint origin ${JSON.stringify(origin)}`);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid checkpoint size ${size}`);
  if (root.length !== HASH_SIZE) throw new Error(`invalid checkpoint root: ${root.length} bytes, expected ${HASH_SIZE}`);
  return `${origin}\n${size}\n${toBase64(root)}\n`;
}

/** Parses checkpoint body text (or a whole signed note, whose signatures are then ignored). */
export function parseCheckpoint(textOrNote: string): Checkpoint {
  const text = textOrNote.includes('\n\n') ? parseNote(textOrNote).text : textOrNote;
  if (!text.endsWith('\n')) throw new Error('malformed checkpoint: it must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new Error('malformed checkpoint: expected origin, size and root hash lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new Error('malformed checkpoint: empty origin line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new Error(`malformed checkpoint: size ${JSON.stringify(sizeText)} is not a decimal integer`);
  }
  const root = fromBase64Strict(rootText);
  if (!root || root.length !== HASH_SIZE) throw new Error('malformed checkpoint: root is not base64 of a 32-byte hash');
  if (extensions.some((line) => line.length === 0)) throw new Error('malformed checkpoint: empty extension line');
  return { origin, size: Number(sizeText), root, extensions };
}

/** The signed checkpoint of a log at a size: what a store publishes after integrating. */
export function signCheckpoint(log: { origin: string; signingKey: string }, size: number, root: Uint8Array): string {
  return signNote(formatCheckpoint(log.origin, size, root), log.signingKey);
}
