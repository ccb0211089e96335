/**
 * Who is calling. An agent presents an API key (`Authorization: Bearer <key>`, `x-api-key` or Azure's `api-key`)
 * whose sha256 is listed for it in gatekeeper.yaml, or a JWT from the configured issuer whose agent claim names a
 * configured agent. Delegation: a JWT `act` claim chain (RFC 8693), or the `OAGF-Delegated-By` header listing
 * configured agent ids oldest first.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AgentConfig, GatekeeperConfig } from '../config/schema.js';
import type { AgentIdentity } from '../spec/index.js';
import { JwtVerifier } from './jwt.js';

export type AuthResult = { ok: true; agent: AgentIdentity } | { ok: false; reason: string; claimed?: string };

export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders): Promise<AuthResult>;
}

export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function createAuthenticator(config: Pick<GatekeeperConfig, 'agents' | 'auth'>): Authenticator {
  const byKeyHash = new Map<string, AgentConfig>();
  const byId = new Map<string, AgentConfig>();
  for (const agent of config.agents) {
    byId.set(agent.id, agent);
    for (const h of agent.api_keys) byKeyHash.set(h, agent);
  }
  const jwt = config.auth.jwt ? new JwtVerifier(config.auth.jwt) : undefined;

  const identity = (agent: AgentConfig, delegation: AgentIdentity['delegation']): AgentIdentity => ({
    id: agent.id,
    ...(agent.owner !== undefined ? { owner: agent.owner } : {}),
    ...(agent.team !== undefined ? { team: agent.team } : {}),
    labels: agent.labels,
    delegation,
  });
  const hop = (id: string): AgentIdentity['delegation'][number] => {
    const a = byId.get(id);
    return { agent: id, ...(a?.owner ? { owner: a.owner } : {}), ...(a?.team ? { team: a.team } : {}) };
  };

  return {
    async authenticate(headers) {
      const token = credentialOf(headers);
      if (!token) return { ok: false, reason: 'no agent credential (Authorization: Bearer <key>, x-api-key or api-key)' };
      const headerChain = delegationHeader(headers).map(hop);
      const byKey = byKeyHash.get(hashApiKey(token));
      if (byKey) return { ok: true, agent: identity(byKey, headerChain) };
      if (jwt && token.split('.').length === 3) {
        let claims: Record<string, unknown>;
        try {
          claims = await jwt.verify(token);
        } catch (err) {
          return { ok: false, reason: `agent token rejected: ${(err as Error).message}` };
        }
        const id = claims[config.auth.jwt!.agent_claim];
        const agent = typeof id === 'string' ? byId.get(id) : undefined;
        if (!agent) return { ok: false, reason: `agent ${String(id)} from the token is not configured`, claimed: String(id) };
        const actChain = actorChain(claims).map(hop);
        return { ok: true, agent: identity(agent, actChain.length ? actChain : headerChain) };
      }
      return { ok: false, reason: 'unknown agent credential' };
    },
  };
}

function credentialOf(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim() || undefined;
  const key = headers['x-api-key'] ?? headers['api-key'];
  return (Array.isArray(key) ? key[0] : key) || undefined;
}

function delegationHeader(headers: IncomingHttpHeaders): string[] {
  const v = headers['oagf-delegated-by'];
  if (!v) return [];
  return (Array.isArray(v) ? v.join(',') : v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** RFC 8693 `act` nests the most recent actor outermost; the delegation chain lists oldest first. */
function actorChain(claims: Record<string, unknown>): string[] {
  const chain: string[] = [];
  let act = claims.act as Record<string, unknown> | undefined;
  while (act && typeof act === 'object' && typeof act.sub === 'string') {
    chain.unshift(act.sub);
    act = act.act as Record<string, unknown> | undefined;
  }
  return chain;
}
