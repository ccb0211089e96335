/**
 * Admin endpoints (`/metrics`, `/v1/budgets`, the ledger's tiles unless made public) show agent names, spend and
 * decisions, so they are not public: they are served on a separate admin address (`admin.listen`: reachable only
 * where that address is), or on the main one to callers presenting an admin key (`admin.api_keys`, sha256 like the
 * agents' keys). With neither configured they are refused, naming the setting.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GateHttpError } from './errors.js';
import type { Handler, Router } from './router.js';

export interface AdminAccess {
  /** sha256:<hex> of each admin key. */
  keyHashes: string[];
  /** The router of the separate admin listener, when `admin.listen` is set. */
  router?: Router;
}

export class AdminRoutes {
  private readonly hashes: Buffer[];

  constructor(
    private readonly main: Router,
    private readonly access: AdminAccess,
  ) {
    this.hashes = access.keyHashes.map((h) => Buffer.from(h.slice('sha256:'.length), 'hex'));
  }

  add(method: 'GET' | 'POST', pattern: string, handler: Handler): void {
    if (this.access.router) {
      this.access.router.add(method, pattern, handler);
      return;
    }
    this.main.add(method, pattern, (req, res, ctx) => {
      this.authorize(req);
      return handler(req, res, ctx);
    });
  }

  private authorize(req: IncomingMessage): void {
    if (this.hashes.length === 0) {
      throw new GateHttpError('forbidden', 'admin endpoints are off: set admin.api_keys (a key to present) or admin.listen (a separate admin address)');
    }
    const auth = req.headers.authorization ?? '';
    const key = auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7).trim() : '';
    if (!key) throw new GateHttpError('unauthenticated', 'admin endpoint: present an admin key (Authorization: Bearer <key>)');
    const hash = createHash('sha256').update(key).digest();
    if (!this.hashes.some((h) => h.length === hash.length && timingSafeEqual(h, hash))) throw new GateHttpError('unauthenticated', 'admin endpoint: unknown admin key');
  }
}
