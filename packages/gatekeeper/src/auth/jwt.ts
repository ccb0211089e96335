/**
 * Agent JWTs, verified with `jose` against a JWKS (file or URL). Only asymmetric algorithms: a gatekeeper never
 * shares a secret with the issuer. A JWKS from a URL is cached and refetched when an unknown `kid` appears (at most
 * once per cooldown, 30 s by default), so key rotation works without a restart. jose's errors are turned into
 * reasons an operator can act on.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../config/schema.js';

export class JwtError extends Error {
  override name = 'JwtError';
}

export interface JwtVerifierOptions {
  /** Least time between two JWKS fetches for an unknown key id. */
  cooldownMs?: number;
}

export class JwtVerifier {
  private keys: JWTVerifyGetKey | undefined;

  constructor(
    private readonly config: JwtConfig,
    private readonly options: JwtVerifierOptions = {},
  ) {}

  /** Verifies signature, issuer, audience, exp/nbf; returns the claims. */
  async verify(token: string): Promise<Record<string, unknown>> {
    const { issuer, audience, algorithms, clock_skew_s } = this.config;
    try {
      const { payload } = await jwtVerify(token, this.keySet(), {
        issuer,
        ...(audience !== undefined ? { audience } : {}),
        algorithms,
        clockTolerance: clock_skew_s,
        requiredClaims: ['exp'],
      });
      return payload as Record<string, unknown>;
    } catch (err) {
      throw new JwtError(reasonOf(err, token, this.config));
    }
  }

  private keySet(): JWTVerifyGetKey {
    if (this.keys) return this.keys;
    if (this.config.jwks_url) {
      this.keys = createRemoteJWKSet(new URL(this.config.jwks_url), { cooldownDuration: this.options.cooldownMs ?? 30_000, timeoutDuration: 5000 });
    } else {
      let jwks: JSONWebKeySet;
      try {
        jwks = JSON.parse(readFileSync(this.config.jwks_file!, 'utf8')) as JSONWebKeySet;
      } catch (err) {
        throw new JwtError(`cannot load JWKS ${this.config.jwks_file}: ${(err as Error).message}`);
      }
      if (!Array.isArray(jwks?.keys)) throw new JwtError(`JWKS ${this.config.jwks_file} has no "keys" array`);
      this.keys = createLocalJWKSet(jwks);
    }
    return this.keys;
  }
}

function reasonOf(err: unknown, token: string, config: JwtConfig): string {
  if (err instanceof JwtError) return err.message;
  if (err instanceof errors.JWTExpired) return 'token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return `issuer ${String(err.payload.iss)} is not ${config.issuer}`;
    if (err.claim === 'aud') return 'audience does not match';
    if (err.claim === 'nbf') return 'token is not valid yet';
    if (err.claim === 'exp') return 'token has no exp claim';
    return `claim ${err.claim}: ${err.reason}`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  const header = headerOf(token);
  if (err instanceof errors.JOSEAlgNotAllowed || header.alg === 'none') return `algorithm ${String(header.alg)} is not accepted`;
  if (err instanceof errors.JWKSNoMatchingKey) return header.kid ? `no key with kid ${header.kid} in the JWKS` : 'token has no kid and the JWKS has several keys';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'token has no kid and the JWKS has several keys';
  if (err instanceof errors.JOSEError) return `${err.message} (${err.code})`;
  return `cannot verify the token: ${(err as Error)?.message ?? String(err)}`;
}

function headerOf(token: string): { alg?: unknown; kid?: string } {
  try {
    return decodeProtectedHeader(token) as { alg?: unknown; kid?: string };
  } catch {
    return {};
  }
}
