/**
 * Console sign-in with OpenID Connect: the authorization code flow with PKCE (S256), state and nonce, through
 * `openid-client`. Nothing about a sign-in in progress is stored on the server: the browser holds a random value
 * in an HttpOnly cookie scoped to the callback, and the PKCE verifier, state and nonce are derived from it
 * (HMAC-SHA256), so any replica can finish a sign-in any other started, and a response that does not belong to
 * this browser's attempt fails the state check. The provider's metadata is discovered at the first sign-in (and
 * again after a failure), so the gatekeeper starts while the provider is down.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcConfig } from '../config.js';
import type { Reviewer } from '../types.js';
import { reviewerFromClaims } from './claims.js';

export const OIDC_COOKIE = 'gk_oidc';
const ATTEMPT_TTL_S = 600;

export interface OidcUrls {
  /** Where the provider sends the browser back to. */
  redirectUri: string;
  postLogoutRedirectUri: string;
}

/** Why a sign-in failed, in words for the person signing in (the login page shows it). */
export class SignInError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 401 | 403 | 502 = 401,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

export class OidcSignIn {
  private configuration: Promise<client.Configuration> | undefined;

  constructor(
    readonly config: OidcConfig,
    private readonly urls: OidcUrls,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get label(): string {
    return this.config.label;
  }

  /** The provider's authorization URL for a new attempt, and the cookie that binds the attempt to this browser. */
  async start(next: string, secure: boolean): Promise<{ url: string; cookie: string }> {
    const config = await this.provider();
    const attempt = randomBytes(32).toString('base64url');
    const derived = derive(attempt);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.urls.redirectUri,
      scope: this.config.scopes.join(' '),
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(derived.verifier),
      code_challenge_method: 'S256',
      state: derived.state,
      nonce: derived.nonce,
    });
    const value = `${attempt}.${Buffer.from(next).toString('base64url')}`;
    return { url: url.href, cookie: `${OIDC_COOKIE}=${value}; Path=/console/oidc; HttpOnly; SameSite=Lax; Max-Age=${ATTEMPT_TTL_S}${secure ? '; Secure' : ''}` };
  }

  /**
   * Finishes an attempt from the provider's redirect (`query` of the callback URL) and the attempt cookie: the
   * code is exchanged with the PKCE verifier, the ID token checked (signature, issuer, audience, expiry, nonce),
   * userinfo read, and the claims mapped to a reviewer.
   */
  async finish(query: string, cookie: string | undefined): Promise<{ reviewer: Reviewer; next: string }> {
    const params = new URLSearchParams(query);
    const error = params.get('error');
    if (error) {
      const description = params.get('error_description');
      throw new SignInError(`the identity provider refused the sign-in: ${error}${description ? ` (${description})` : ''}`, error === 'access_denied' ? 403 : 401);
    }
    const [attempt, nextPart] = (cookie ?? '').split('.');
    if (!attempt || nextPart === undefined) {
      throw new SignInError('this browser has no sign-in in progress (it expired after 10 minutes, or cookies are blocked): start again', 400);
    }
    const derived = derive(attempt);
    const config = await this.provider();
    const current = new URL(this.urls.redirectUri);
    current.search = query;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: derived.verifier,
        expectedState: derived.state,
        expectedNonce: derived.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      const said = describe(err);
      if (/"state"/.test(said)) throw new SignInError("the sign-in response does not belong to this browser's sign-in attempt (state does not match): start again", 400);
      if (/"nonce"/.test(said)) throw new SignInError('the ID token was not issued for this sign-in attempt (nonce does not match): start again', 400);
      throw new SignInError(`the sign-in could not be completed: ${said}`);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new SignInError('the identity provider returned no ID token');
    let claims: Record<string, unknown> = { ...idClaims };
    if (this.config.userinfo && config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        claims = { ...claims, ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)) };
      } catch (err) {
        throw new SignInError(`the identity provider's userinfo could not be read: ${describe(err)}`, 502);
      }
    }
    const mapped = reviewerFromClaims(this.config, claims);
    if (!mapped.ok) throw new SignInError(mapped.problem, 403);
    return { reviewer: mapped.reviewer, next: Buffer.from(nextPart, 'base64url').toString('utf8') };
  }

  /** Where sign-out sends the browser: the provider's end-session endpoint when it has one and `logout: provider`. */
  async logoutUrl(): Promise<string | undefined> {
    if (this.config.logout !== 'provider') return undefined;
    let config: client.Configuration;
    try {
      config = await this.provider();
    } catch {
      return undefined;
    }
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(config, { client_id: this.config.client_id, post_logout_redirect_uri: this.urls.postLogoutRedirectUri }).href;
  }

  static clearCookie(): string {
    return `${OIDC_COOKIE}=; Path=/console/oidc; HttpOnly; SameSite=Lax; Max-Age=0`;
  }

  private provider(): Promise<client.Configuration> {
    this.configuration ??= this.discover().catch((err: unknown) => {
      this.configuration = undefined;
      throw new SignInError(`the identity provider at ${this.config.issuer} cannot be reached: ${describe(err)}`, 502);
    });
    return this.configuration;
  }

  private discover(): Promise<client.Configuration> {
    const { config } = this;
    let auth: client.ClientAuth = client.None();
    let metadata: Partial<client.ClientMetadata> = {};
    if (config.client_secret) {
      const secret = this.env[config.client_secret.env];
      if (!secret) throw new Error(`environment variable ${config.client_secret.env} (approvals.console.oidc.client_secret) is not set`);
      auth = client.ClientSecretBasic(secret);
      metadata = { client_secret: secret };
    }
    // Plain HTTP only to a provider on this machine (a development provider); anywhere else TLS is required.
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(config.issuer).hostname);
    return client.discovery(new URL(config.issuer), config.client_id, metadata, auth, {
      timeout: Math.ceil(config.timeout_ms / 1000),
      ...(loopback ? { execute: [client.allowInsecureRequests] } : {}),
    });
  }
}

/** The attempt's PKCE verifier, state and nonce: only a holder of the cookie's value can produce them. */
function derive(attempt: string): { verifier: string; state: string; nonce: string } {
  const mac = (label: string) => createHmac('sha256', attempt).update(label).digest('base64url');
  return { verifier: mac('pkce code verifier'), state: mac('state'), nonce: mac('nonce') };
}

function describe(err: unknown): string {
  const e = err as { message?: string; error?: string; error_description?: string; cause?: unknown };
  if (e?.error) return `${e.error}${e.error_description ? ` (${e.error_description})` : ''}`;
  const cause = (e?.cause as { message?: string } | undefined)?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}
