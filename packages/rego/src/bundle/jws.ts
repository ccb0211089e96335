/**
 * Compact JWS for bundle signatures with the algorithms OPA's bundle signing supports: HS256/384/512 (shared
 * secret), RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA (PEM keys).
 */
import { constants, createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

export const SIGNING_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const hashOf = (alg: string) => (alg === 'EdDSA' ? null : `sha${alg.slice(2)}`);

function keyOptions(alg: string, key: KeyObject) {
  if (alg.startsWith('PS')) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (alg.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' as const };
  return { key };
}

function checkAlg(alg: string): asserts alg is SigningAlgorithm {
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) throw new Error(`unsupported signing algorithm: ${alg} (one of ${SIGNING_ALGORITHMS.join(', ')})`);
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Signs `payload` (a JSON object); `key` is the HMAC secret for HS*, else a PEM private key. */
export function signJws(payload: unknown, alg: string, key: string | Buffer | KeyObject, header: Record<string, unknown> = {}): string {
  checkAlg(alg);
  const input = `${b64(JSON.stringify({ alg, typ: 'JWT', ...header }))}.${b64(JSON.stringify(payload))}`;
  let sig: Buffer;
  if (alg.startsWith('HS')) sig = createHmac(hashOf(alg)!, key as string | Buffer).update(input).digest();
  else sig = sign(hashOf(alg), Buffer.from(input), keyOptions(alg, typeof key === 'object' && 'type' in key ? key : createPrivateKey(key)) as never);
  return `${input}.${b64(sig)}`;
}

export interface DecodedJws { header: Record<string, unknown>; payload: Record<string, unknown> }

/** The header and payload of a compact JWS, unverified. */
export function decodeJws(token: string): DecodedJws & { signingInput: string; signature: Buffer } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('failed to split compact JWT: expected 3 parts');
  const json = (s: string, what: string) => {
    try {
      return JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new Error(`failed to base64 decode JWT ${what}`);
    }
  };
  return { header: json(parts[0], 'header'), payload: json(parts[1], 'payload'), signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/** Verifies a compact JWS with `key` (HMAC secret for HS*, else a PEM public key or certificate). */
export function verifyJws(token: string, alg: string, key: string | Buffer | KeyObject): DecodedJws {
  checkAlg(alg);
  const d = decodeJws(token);
  if (d.header.alg !== alg) throw new Error(`failed to verify JWT signature: token algorithm ${String(d.header.alg)} is not ${alg}`);
  let ok: boolean;
  if (alg.startsWith('HS')) {
    const want = createHmac(hashOf(alg)!, key as string | Buffer).update(d.signingInput).digest();
    ok = want.length === d.signature.length && timingSafeEqual(want, d.signature);
  } else {
    const pub = typeof key === 'object' && 'type' in key ? key : createPublicKey(key);
    ok = verify(hashOf(alg), Buffer.from(d.signingInput), keyOptions(alg, pub) as never, d.signature);
  }
  if (!ok) throw new Error('failed to verify JWT signature: signature mismatch');
  return { header: d.header, payload: d.payload };
}
