/** crypto.md5/sha1/sha256 and crypto.hmac.* (OPA topdown/crypto.go): hex digests of UTF-8 strings. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { BuiltinDef, BuiltinTable } from './registry.js';

const digest = (name: string, hash: string): BuiltinDef => ({
  name, args: ['string'], result: 'string',
  fn: ([x]) => createHash(hash).update(x as string, 'utf8').digest('hex'),
});

const hmac = (name: string, hash: string): BuiltinDef => ({
  name, args: ['string', 'string'], result: 'string',
  fn: ([x, key]) => createHmac(hash, Buffer.from(key as string, 'utf8')).update(x as string, 'utf8').digest('hex'),
});

/** hmac.Equal: constant-time over equal lengths, false otherwise. */
function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const table: BuiltinDef[] = [
  digest('crypto.md5', 'md5'),
  digest('crypto.sha1', 'sha1'),
  digest('crypto.sha256', 'sha256'),
  hmac('crypto.hmac.md5', 'md5'),
  hmac('crypto.hmac.sha1', 'sha1'),
  hmac('crypto.hmac.sha256', 'sha256'),
  hmac('crypto.hmac.sha512', 'sha512'),
  { name: 'crypto.hmac.equal', args: ['string', 'string'], result: 'boolean', fn: ([a, b]) => macEqual(a as string, b as string) },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
