/** Language-core builtins (operators, membership, print, trace); owned by the engine. */
import type { BuiltinTable } from './registry.js';

export const builtins: BuiltinTable = {};
