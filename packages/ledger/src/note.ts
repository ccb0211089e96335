import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { fromBase64Strict, sha256, toBase64 } from './hash.js';

/** C2SP signed-note signature types this package understands. */
export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_ED25519 = 0x04;
type SignatureType = typeof SIG_ED25519 | typeof SIG_COSIGNATURE_ED25519;

const EM_DASH = '\u2014';
const MAX_SIGNATURES = 100;
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export interface VerifierKey {
  name: string;
  id: number;
  type: SignatureType;
  publicKey: KeyObject;
}

export interface SignerKey extends VerifierKey {
  privateKey: KeyObject;
  vkey: string;
}

function checkKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name) || /[\u0000-\u001f]/.test(name)) {
    throw new Error(`invalid key name ${JSON.stringify(name)}: it must be non-empty, without spaces or '+'`);
  }
}

function keyId(name: string, type: number, publicKey: Uint8Array): number {
  return Buffer.from(sha256(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([type]), publicKey]))).readUInt32BE(0);
}

function hexId(id: number): string {
  return id.toString(16).padStart(8, '0');
}

function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

function encodeVkey(name: string, type: SignatureType, publicKey: Uint8Array): string {
  return `${name}+${hexId(keyId(name, type, publicKey))}+${toBase64(Buffer.concat([Buffer.from([type]), publicKey]))}`;
}

function newKeyPair(name: string, type: SignatureType): { skey: string; vkey: string } {
  checkKeyName(name);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = rawPublicKey(publicKey);
  const id = hexId(keyId(name, type, pub));
  return {
    skey: `PRIVATE+KEY+${name}+${id}+${toBase64(Buffer.concat([Buffer.from([type]), seed]))}`,
    vkey: encodeVkey(name, type, pub),
  };
}

/** A log signing key pair: skey `PRIVATE+KEY+name+hexid+base64(0x01||seed)`, vkey `name+hexid+base64(0x01||pub)`. */
export function generateKey(name: string): { skey: string; vkey: string } {
  return newKeyPair(name, SIG_ED25519);
}

/** A witness key pair for C2SP tlog-cosignature (type 0x04). */
export function generateCosignerKey(name: string): { skey: string; vkey: string } {
  return newKeyPair(name, SIG_COSIGNATURE_ED25519);
}

function splitKey(text: string, what: string): { name: string; id: number; type: SignatureType; material: Buffer } {
  // The base64 key may itself contain '+', so only the first two separators count.
  const match = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text);
  if (!match) throw new Error(`malformed ${what}: expected name+hexid+base64key`);
  const [, name, idText, keyText] = match as unknown as [string, string, string, string];
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idText)) throw new Error(`malformed ${what} ${name}: key id must be 8 lowercase hex digits`);
  const bytes = fromBase64Strict(keyText);
  if (!bytes || bytes.length !== 33) throw new Error(`malformed ${what} ${name}: key must be base64 of 1 type byte and 32 key bytes`);
  const type = bytes[0];
  if (type !== SIG_ED25519 && type !== SIG_COSIGNATURE_ED25519) {
    throw new Error(`unsupported ${what} ${name}: signature type 0x${type!.toString(16).padStart(2, '0')} (only Ed25519 0x01 and cosignature 0x04)`);
  }
  return { name, id: parseInt(idText, 16), type, material: Buffer.from(bytes.subarray(1)) };
}

export function parseVerifierKey(vkey: string): VerifierKey {
  const { name, id, type, material } = splitKey(vkey, 'verifier key');
  if (keyId(name, type, material) !== id) throw new Error(`verifier key ${name}: key id ${hexId(id)} does not match the key`);
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519, material]), format: 'der', type: 'spki' });
  return { name, id, type, publicKey };
}

export function parseSignerKey(skey: string): SignerKey {
  if (!skey.startsWith('PRIVATE+KEY+')) throw new Error('malformed signing key: it must start with PRIVATE+KEY+');
  const { name, id, type, material } = splitKey(skey.slice('PRIVATE+KEY+'.length), 'signing key');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, material]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const pub = rawPublicKey(publicKey);
  if (keyId(name, type, pub) !== id) throw new Error(`signing key ${name}: key id ${hexId(id)} does not match the key`);
  return { name, id, type, publicKey, privateKey, vkey: encodeVkey(name, type, pub) };
}

/** The verifier key that checks signatures made with skey. */
export function verifierKeyOf(skey: string): string {
  return parseSignerKey(skey).vkey;
}

function checkNoteCharacters(text: string, what: string): void {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new Error(`malformed ${what}: contains an ASCII control character other than newline`);
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) throw new Error(`malformed ${what}: not valid UTF-8`);
}

function checkNoteText(text: string): void {
  checkNoteCharacters(text, 'note text');
  if (!text.endsWith('\n')) throw new Error('malformed note text: it must end with a newline');
}

function signatureLine(name: string, id: number, signature: Uint8Array): string {
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(id >>> 0);
  return `${EM_DASH} ${name} ${toBase64(Buffer.concat([idBytes, signature]))}\n`;
}

function cosignedMessage(text: string, time: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${time}\n${text}`);
}

/** Signs note text (ending in a newline) with one or more log keys; several keys support rotation. */
export function signNote(text: string, skey: string | string[]): string {
  checkNoteText(text);
  const keys = (Array.isArray(skey) ? skey : [skey]).map(parseSignerKey);
  if (keys.length === 0) throw new Error('signNote: no signing key given');
  const lines = keys.map((key) => {
    if (key.type !== SIG_ED25519) throw new Error(`signNote: ${key.name} is a cosigner key; use cosignNote`);
    return signatureLine(key.name, key.id, sign(null, Buffer.from(text), key.privateKey));
  });
  return `${text}\n${lines.join('')}`;
}

export interface ParsedNote {
  text: string;
  signatures: { name: string; id: number; signature: Buffer }[];
}

/** Splits a signed note into text and signature lines, rejecting anything malformed. */
export function parseNote(note: string): ParsedNote {
  if (typeof note !== 'string') throw new Error('malformed note: not a string');
  checkNoteCharacters(note, 'note');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('malformed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) throw new Error('malformed note: signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new Error(`malformed note: more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    const match = /^\u2014 ([^\s+]+) (\S+)$/u.exec(line);
    if (!match) throw new Error(`malformed note: bad signature line ${JSON.stringify(line)}`);
    const bytes = fromBase64Strict(match[2]!);
    if (!bytes || bytes.length < 5) throw new Error(`malformed note: signature by ${match[1]} is not base64 of a key id and a signature`);
    return { name: match[1]!, id: Buffer.from(bytes).readUInt32BE(0), signature: Buffer.from(bytes.subarray(4)) };
  });
  return { text, signatures };
}

function signatureVerifies(key: VerifierKey, text: string, signature: Buffer): boolean {
  if (key.type === SIG_ED25519) return signature.length === 64 && verify(null, Buffer.from(text), key.publicKey, signature);
  if (signature.length !== 72) return false;
  const time = signature.readBigUInt64BE(0);
  if (time > 2n ** 63n - 1n) return false;
  return verify(null, cosignedMessage(text, time), key.publicKey, signature.subarray(8));
}

/**
 * Verifies a signed note against known verifier keys (log keys 0x01 and witness cosigner keys 0x04).
 * Returns the names of the known keys whose signatures verified. Throws on a malformed note, on a bad
 * signature from a known key, and when no known key signed the note.
 */
export function verifyNote(note: string, vkeys: string[]): string[] {
  const keys = vkeys.map(parseVerifierKey);
  const { text, signatures } = parseNote(note);
  const verified = new Set<string>();
  for (const sig of signatures) {
    const key = keys.find((k) => k.name === sig.name && k.id === sig.id);
    if (!key) continue;
    if (!signatureVerifies(key, text, sig.signature)) throw new Error(`note signature by known key ${key.name}+${hexId(key.id)} does not verify`);
    verified.add(key.name);
  }
  if (verified.size === 0) throw new Error('note is not signed by any known key');
  return [...verified];
}

/** The body text of a signed note (everything before the signature block). */
export function noteText(note: string): string {
  return parseNote(note).text;
}

/** A C2SP tlog-cosignature/v1 (Ed25519) signature line over a checkpoint's note text, at a POSIX time in seconds. */
export function cosignatureLine(text: string, skey: string | SignerKey, time: number = Math.floor(Date.now() / 1000)): string {
  const key = typeof skey === 'string' ? parseSignerKey(skey) : skey;
  if (key.type !== SIG_COSIGNATURE_ED25519) throw new Error(`cosign: ${key.name} is not a cosigner (0x04) key`);
  checkNoteText(text);
  const timestamp = BigInt(time);
  const signed = Buffer.alloc(8);
  signed.writeBigUInt64BE(timestamp);
  const signature = sign(null, cosignedMessage(text, timestamp), key.privateKey);
  return signatureLine(key.name, key.id, Buffer.concat([signed, signature]));
}

/** Adds a C2SP tlog-cosignature (witness) line to a signed checkpoint. */
export function cosignNote(note: string, skey: string, time: number = Math.floor(Date.now() / 1000)): string {
  return `${note}${cosignatureLine(parseNote(note).text, skey, time)}`;
}
