import crypto, { createHash } from 'node:crypto';

/** Length in bytes of every hash in the tree (SHA-256). */
export const HASH_SIZE = 32;

type OneShotHash = {
  (algorithm: string, data: Uint8Array, encoding: 'buffer'): Buffer;
  (algorithm: string, data: Uint8Array | string, encoding: 'hex'): string;
};
// crypto.hash (Node >= 20.12) skips the Hash object and is markedly faster for the many small inputs of a tree.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;
const nodeScratch = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);
// Ledger entries are at most 65535 bytes; reusing one buffer spares an allocation per leaf.
const leafScratch = Buffer.alloc(1 + 65536, 0x00);

export function sha256(data: Uint8Array | string): Uint8Array {
  return oneShot && typeof data !== 'string' ? oneShot('sha256', data, 'buffer') : createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Uint8Array | string): string {
  // Every payload of every append is digested here.
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

/** RFC 9162 §2.1.1: MTH({d}) = SHA-256(0x00 || d). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  if (!oneShot) return createHash('sha256').update(new Uint8Array([0x00])).update(data).digest();
  if (data.length >= leafScratch.length) return createHash('sha256').update(new Uint8Array([0x00])).update(data).digest();
  leafScratch.set(data, 1);
  return oneShot('sha256', leafScratch.subarray(0, data.length + 1), 'buffer');
}

/** RFC 9162 §2.1.1: SHA-256(0x01 || left || right), for 32-byte children. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (!oneShot || left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    return createHash('sha256').update(new Uint8Array([0x01])).update(left).update(right).digest();
  }
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return oneShot('sha256', nodeScratch, 'buffer');
}

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strict standard base64 (RFC 4648 §4): rejects anything that does not re-encode to the same text. */
export function fromBase64Strict(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
