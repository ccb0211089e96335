/** Liveness, readiness, metrics and the ledger's tiles. */
import type { SurfaceModule } from '../../surface.js';
import { registerHealthRoutes } from './routes.js';

export const healthSurface: SurfaceModule = { name: 'health', register: registerHealthRoutes };
