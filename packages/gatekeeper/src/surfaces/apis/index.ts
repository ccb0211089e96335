/** The API proxy surface: `/apis/<name>/<path>` → the business APIs configured in `apis:`. */
import type { SurfaceModule } from '../../surface.js';
import { resolveApis } from './config.js';
import { registerApiRoutes } from './routes.js';

export const apisSurface: SurfaceModule = {
  name: 'apis',
  register(router, deps) {
    const apis = resolveApis(deps.config.apis, deps.env, deps);
    registerApiRoutes(router, deps, apis);
    return { close: () => Promise.all([...apis.values()].map((a) => a.upstream.close())).then(() => undefined) };
  },
};

export { resolveApis, type ResolvedApi } from './config.js';
