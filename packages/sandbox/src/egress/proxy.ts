import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lookup as dnsLookup } from 'node:dns/promises';
import { connect, isIP, type Socket } from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { EgressAttempt } from '../types.js';
import { canonicalHost, isSpecialAddress, parseAllowRule, PrivateRangeAllowance, ruleMatches, type AllowRule } from './allowlist.js';

/** Resolves a host name to addresses (all of them: one refused address refuses the name). */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface EgressPolicy {
  allow: string[];
  allowPrivateRanges: string[];
}

export interface EgressProxyOptions {
  socketPath: string;
  policy: EgressPolicy;
  resolver?: Resolver;
  /** Attempts recorded per execution; later ones are refused (and counted in `dropped`). */
  maxAttempts?: number;
  maxConnections?: number;
  connectTimeoutMs?: number;
}

type Verdict = { ok: true; address: string } | { ok: false; reason: string; address?: string; status: number };

/**
 * The host side of an execution's network: an HTTP proxy (CONNECT tunnels and absolute-URI requests) on a unix
 * socket that only this execution's sandbox has mounted. It decides every attempt against the allowlist, resolves
 * names itself and connects to the address it checked (so a name cannot re-resolve to somewhere else between
 * check and use), and records each attempt.
 */
export class EgressProxy {
  readonly attempts: EgressAttempt[] = [];
  dropped = 0;
  private readonly rules: AllowRule[];
  private readonly privateAllowed: PrivateRangeAllowance;
  private readonly resolver: Resolver;
  private readonly server: Server;
  private readonly open = new Set<Duplex>();
  private readonly maxAttempts: number;
  private readonly maxConnections: number;
  private readonly connectTimeoutMs: number;

  private constructor(private readonly options: EgressProxyOptions) {
    this.rules = options.policy.allow.map(parseAllowRule);
    this.privateAllowed = new PrivateRangeAllowance(options.policy.allowPrivateRanges);
    this.resolver = options.resolver ?? systemResolver;
    this.maxAttempts = options.maxAttempts ?? 1000;
    this.maxConnections = options.maxConnections ?? 64;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.server = createServer({ requestTimeout: 0 });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onConnect(req, socket, head));
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
    });
  }

  static async start(options: EgressProxyOptions): Promise<EgressProxy> {
    const proxy = new EgressProxy(options);
    await rm(options.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(options.socketPath, () => resolve());
    });
    // The sandbox runs as another uid; the socket's directory is what keeps other users out.
    await chmod(options.socketPath, 0o666);
    return proxy;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.options.socketPath, { force: true });
  }

  private record(attempt: Omit<EgressAttempt, 'time'>): EgressAttempt | null {
    if (this.attempts.length >= this.maxAttempts) {
      this.dropped++;
      return null;
    }
    const full: EgressAttempt = { time: new Date().toISOString(), ...attempt };
    this.attempts.push(full);
    return full;
  }

  private async decide(host: string, port: number): Promise<Verdict> {
    if (this.attempts.length >= this.maxAttempts) return { ok: false, reason: 'too many connection attempts', status: 429 };
    if (this.open.size > this.maxConnections) return { ok: false, reason: 'too many open connections', status: 429 };
    const rule = this.rules.find((r) => ruleMatches(r, host, port));
    if (!rule) return { ok: false, reason: 'not in the allowlist', status: 403 };
    // An IP literal in the allowlist is an explicit choice of that address, special or not.
    if (isIP(host) && rule.host === host) return { ok: true, address: host };
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolver(host);
    } catch (error) {
      return { ok: false, reason: `name resolution failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, status: 502 };
    }
    if (addresses.length === 0) return { ok: false, reason: 'name resolution returned no address', status: 502 };
    for (const address of addresses) {
      if (isSpecialAddress(address) && !this.privateAllowed.allows(address)) {
        return { ok: false, reason: `resolves to a loopback, private, link-local or reserved address (${address})`, address, status: 403 };
      }
    }
    return { ok: true, address: canonicalHost(addresses[0]!) };
  }

  private async onConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const target = parseAuthority(req.url ?? '');
    if (!target) {
      this.record({ kind: 'connect', host: req.url ?? '', port: 0, decision: 'denied', reason: 'malformed CONNECT target' });
      return void client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    }
    const verdict = await this.decide(target.host, target.port);
    if (!verdict.ok) {
      this.record({ kind: 'connect', ...target, decision: 'denied', reason: verdict.reason, address: verdict.address });
      return void client.end(`HTTP/1.1 ${verdict.status} Refused\r\nConnection: close\r\nX-Sandbox-Egress: ${verdict.reason.replace(/[\r\n]/g, ' ')}\r\n\r\n`);
    }
    const attempt = this.record({ kind: 'connect', ...target, decision: 'allowed', reason: 'allowlisted', address: verdict.address, bytesUp: 0, bytesDown: 0 });
    const upstream = connect({ host: verdict.address, port: target.port, timeout: this.connectTimeoutMs });
    this.open.add(upstream);
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.once('timeout', () => upstream.destroy(new Error('connect timeout')));
    upstream.once('error', (error) => {
      if (attempt) attempt.error = error.message;
      if (!upstream.readyState.startsWith('open')) client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
      else client.destroy();
    });
    client.once('error', () => upstream.destroy());
    upstream.once('close', () => {
      this.open.delete(upstream);
      if (attempt) Object.assign(attempt, { bytesUp: upstream.bytesWritten, bytesDown: upstream.bytesRead });
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      this.record({ kind: 'http', host: '', port: 0, method: req.method, url: req.url, decision: 'denied', reason: 'not an absolute http:// URL (use CONNECT for https)' });
      res.writeHead(400, { connection: 'close' }).end('the sandbox egress proxy takes absolute http:// URLs or CONNECT\n');
      return;
    }
    const host = canonicalHost(url.hostname);
    const port = url.port ? Number(url.port) : 80;
    const verdict = await this.decide(host, port);
    if (!verdict.ok) {
      this.record({ kind: 'http', host, port, method: req.method, url: url.href, decision: 'denied', reason: verdict.reason, address: verdict.address });
      res.writeHead(verdict.status, { connection: 'close', 'x-sandbox-egress': verdict.reason }).end(`refused by the sandbox egress proxy: ${verdict.reason}\n`);
      return;
    }
    const attempt = this.record({ kind: 'http', host, port, method: req.method, url: url.href, decision: 'allowed', reason: 'allowlisted', address: verdict.address, bytesUp: 0, bytesDown: 0 });
    const headers = { ...req.headers };
    for (const h of ['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive']) delete headers[h];
    const upstream = httpRequest({ host: verdict.address, port, method: req.method, path: `${url.pathname}${url.search}`, headers: { ...headers, host: url.host }, agent: false, timeout: this.connectTimeoutMs });
    upstream.on('response', (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.on('data', (chunk: Buffer) => attempt && (attempt.bytesDown! += chunk.length));
      response.pipe(res);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', (error) => {
      if (attempt) attempt.error = error.message;
      if (!res.headersSent) res.writeHead(502, { connection: 'close' }).end(`upstream error: ${error.message}\n`);
      else res.destroy();
    });
    req.on('data', (chunk: Buffer) => attempt && (attempt.bytesUp! += chunk.length));
    req.pipe(upstream);
  }
}

function parseAuthority(text: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/]+):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: canonicalHost(m[1]!), port };
}
