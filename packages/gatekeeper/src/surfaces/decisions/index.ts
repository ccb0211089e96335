/** The decision API surface: check before acting. */
import type { SurfaceModule } from '../../surface.js';
import { registerDecisionRoutes } from './routes.js';

export const decisionsSurface: SurfaceModule = { name: 'decisions', register: registerDecisionRoutes };
