/**
 * One registry of all builtins. Each family file exports `builtins: BuiltinTable`;
 * add one import line and one spread line per family (keep alphabetical to avoid merge clashes).
 */
import type { BuiltinTable } from './registry.js';
import { builtins as core } from './core.js';
// family imports (one line each):
import { builtins as net } from './net.js';
import { builtins as time } from './time.js';
import { builtins as uuid } from './uuid.js';

export const BUILTINS: BuiltinTable = {
  ...core,
  // family spreads (one line each):
  ...net,
  ...time,
  ...uuid,
};

export * from './registry.js';
