/**
 * JWT verification with node:crypto against a JWKS (file or URL). Only asymmetric algorithms: a gatekeeper
 * never shares a secret with the issuer. The JWKS from a URL is cached and refetched when an unknown `kid`
 * appears (at most once per 30 s), so key rotation works without a restart.
 */
import { createPublicKey, verify, constants, type KeyObject, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import type { JwtConfig } from '../config/schema.js';

export class JwtError extends Error {
  override name = 'JwtError';
}

type Alg = JwtConfig['algorithms'][number];

const VERIFY: Record<Alg, { hash: string | null; options?: object }> = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null },
};

interface Jwk extends JsonWebKey {
  kid?: string;
  alg?: string;
  use?: string;
}

const REFETCH_MIN_MS = 30_000;

export class JwtVerifier {
  private keys = new Map<string, KeyObject>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(
    private readonly config: JwtConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Verifies signature, issuer, audience, exp/nbf; returns the claims. */
  async verify(token: string): Promise<Record<string, unknown>> {
    const parts = token.split('.');
    if (parts.length !== 3) throw new JwtError('token is not a JWS compact serialization');
    const [h, p, s] = parts as [string, string, string];
    const header = decodeJson(h, 'header') as { alg?: string; kid?: string };
    const alg = header.alg as Alg;
    if (!this.config.algorithms.includes(alg)) throw new JwtError(`algorithm ${header.alg} is not accepted`);
    const key = await this.keyFor(header.kid);
    const { hash, options } = VERIFY[alg];
    const ok = verify(hash, Buffer.from(`${h}.${p}`), { key, ...options } as never, Buffer.from(s, 'base64url'));
    if (!ok) throw new JwtError('signature does not verify');
    const claims = decodeJson(p, 'payload') as Record<string, unknown>;
    this.checkClaims(claims);
    return claims;
  }

  private checkClaims(claims: Record<string, unknown>): void {
    const { issuer, audience, clock_skew_s } = this.config;
    if (claims.iss !== issuer) throw new JwtError(`issuer ${String(claims.iss)} is not ${issuer}`);
    if (audience !== undefined) {
      const want = Array.isArray(audience) ? audience : [audience];
      const got = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!want.some((a) => got.includes(a))) throw new JwtError('audience does not match');
    }
    const nowS = this.now() / 1000;
    if (typeof claims.exp !== 'number') throw new JwtError('token has no exp claim');
    if (claims.exp + clock_skew_s < nowS) throw new JwtError('token has expired');
    if (typeof claims.nbf === 'number' && claims.nbf - clock_skew_s > nowS) throw new JwtError('token is not valid yet');
  }

  private async keyFor(kid: string | undefined): Promise<KeyObject> {
    if (this.loadedAt === 0) await this.load();
    let key = this.find(kid);
    if (!key && this.config.jwks_url && this.now() - this.loadedAt > REFETCH_MIN_MS) {
      await this.load();
      key = this.find(kid);
    }
    if (!key) throw new JwtError(kid ? `no key with kid ${kid} in the JWKS` : 'token has no kid and the JWKS has several keys');
    return key;
  }

  private find(kid: string | undefined): KeyObject | undefined {
    if (kid !== undefined) return this.keys.get(kid);
    return this.keys.size === 1 ? this.keys.values().next().value : undefined;
  }

  private load(): Promise<void> {
    this.loading ??= this.fetchJwks()
      .then((jwks) => {
        const keys = new Map<string, KeyObject>();
        jwks.keys.forEach((jwk, i) => {
          if (jwk.use && jwk.use !== 'sig') return;
          keys.set(jwk.kid ?? `#${i}`, createPublicKey({ key: jwk, format: 'jwk' }));
        });
        this.keys = keys;
        this.loadedAt = this.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private async fetchJwks(): Promise<{ keys: Jwk[] }> {
    let jwks: unknown;
    try {
      if (this.config.jwks_file) jwks = JSON.parse(readFileSync(this.config.jwks_file, 'utf8'));
      else {
        const res = await request(this.config.jwks_url!, { headersTimeout: 5000, bodyTimeout: 5000 });
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        jwks = await res.body.json();
      }
    } catch (err) {
      throw new JwtError(`cannot load JWKS: ${(err as Error).message}`);
    }
    if (!jwks || !Array.isArray((jwks as { keys?: unknown }).keys)) throw new JwtError('JWKS has no "keys" array');
    return jwks as { keys: Jwk[] };
  }
}

function decodeJson(part: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError(`token ${what} is not base64url JSON`);
  }
}
