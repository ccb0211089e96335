/**
 * `GET /v1/models`: the models an agent may ask for. Models configured by exact name are listed as configured;
 * when there are none, the OpenAI-compatible upstreams (OpenAI, vLLM and the like: not Azure, whose deployments
 * are not listed by its data-plane API) are asked for theirs, and a model is listed when the gatekeeper would
 * route it to the upstream that offers it. The fetched list is kept for `models_cache_s`.
 */
import { GateHttpError } from '../../http/errors.js';
import type { Logger } from '../../logger.js';
import type { ModelRouter, Upstream } from '../../llm/upstreams.js';

export interface ListedModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export class ModelCatalog {
  private cached: { until: number; models: Promise<ListedModel[]> } | undefined;

  constructor(
    private readonly router: ModelRouter,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  list(): Promise<ListedModel[]> {
    const named = this.router.models();
    if (named.length > 0) return Promise.resolve(named.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owned_by })));
    if (this.cached && this.cached.until > this.now()) return this.cached.models;
    const models = this.fetchAll();
    // Callers arriving while the upstreams are asked share one fetch; a failed fetch is not kept.
    this.cached = { until: Number.POSITIVE_INFINITY, models };
    models.then(
      () => (this.cached = { until: this.now() + this.ttlMs, models }),
      () => (this.cached = undefined),
    );
    return models;
  }

  private async fetchAll(): Promise<ListedModel[]> {
    const listed = this.router.upstreams.filter((u) => u.flavor === 'openai');
    const results = await Promise.allSettled(listed.map((u) => this.fetchOne(u)));
    const problems = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    const found = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    if (problems.length > 0 && found.length === 0 && listed.length > 0) {
      throw new GateHttpError('upstream_error', `no upstream listed its models: ${problems.join('; ')}`);
    }
    for (const problem of problems) this.logger.warn({ problem }, 'an LLM upstream did not list its models');
    const seen = new Set<string>();
    return found.filter((m) => !seen.has(m.id) && seen.add(m.id));
  }

  private async fetchOne(upstream: Upstream): Promise<ListedModel[]> {
    const { path, query } = upstream.pathFor('models', '');
    const res = await upstream.client.send({ method: 'GET', path, query, headers: { accept: 'application/json', 'accept-encoding': 'identity' } });
    const text = await res.text(4 * 1024 * 1024);
    if (res.status !== 200) throw new Error(`upstream "${upstream.name}" answered ${res.status} to GET ${path}`);
    let data: unknown;
    try {
      data = (JSON.parse(text) as { data?: unknown }).data;
    } catch {
      throw new Error(`upstream "${upstream.name}" listed its models in a body that is not JSON`);
    }
    if (!Array.isArray(data)) throw new Error(`upstream "${upstream.name}" listed its models without a "data" array`);
    return data.flatMap((m: { id?: unknown; created?: unknown }) => {
      if (typeof m?.id !== 'string' || !this.routesTo(m.id, upstream)) return [];
      return [{ id: m.id, object: 'model' as const, created: typeof m.created === 'number' ? m.created : 0, owned_by: upstream.name }];
    });
  }

  /** Only models an agent asking for them by this name would reach here (another route may claim the name). */
  private routesTo(model: string, upstream: Upstream): boolean {
    try {
      return this.router.route(model)[0] === upstream;
    } catch {
      return false;
    }
  }
}
