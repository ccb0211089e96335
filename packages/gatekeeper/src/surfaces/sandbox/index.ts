/** Agent code execution, governed (`sandbox:` in gatekeeper.yaml; off when absent). */
import type { SurfaceModule } from '../../surface.js';
import { registerSandboxRoutes } from './routes.js';

export const sandboxSurface: SurfaceModule = {
  name: 'sandbox',
  register(router, deps) {
    const service = deps.sandbox;
    if (!service) return;
    registerSandboxRoutes(router, deps, service);
    return { notReady: () => service.problem };
  },
};

export { SandboxService } from './service.js';
