/**
 * One registry of all builtins. Each family file exports `builtins: BuiltinTable`;
 * add one import line and one spread line per family (keep alphabetical to avoid merge clashes).
 */
import type { BuiltinTable } from './registry.js';
import { builtins as core } from './core.js';
// family imports (one line each):
import { builtins as aggregates } from './aggregates.js';
import { builtins as arrays } from './arrays.js';
import { builtins as bits } from './bits.js';
import { builtins as glob } from './glob.js';
import { builtins as json } from './json.js';
import { builtins as numbers } from './numbers.js';
import { builtins as providers } from './providers.js';
import { builtins as regex } from './regex.js';
import { builtins as sets } from './sets.js';
import { builtins as strings } from './strings.js';
import { builtins as types } from './types.js';
import { builtins as units } from './units.js';
import { builtins as graph } from './graph.js';
import { builtins as template } from './go/template.js';
import { builtins as jsonschema } from './jsonschema.js';
import { builtins as encoding } from './encoding.js';
import { builtins as objects } from './objects.js';
import { builtins as semver } from './semver.js';
import { builtins as walk } from './walk.js';
import { builtins as crypto } from './crypto.js';
import { builtins as graphql } from './graphql.js';
import { builtins as host } from './host.js';
import { builtins as jwt } from './jwt.js';
import { builtins as net } from './net.js';
import { builtins as time } from './time.js';
import { builtins as uuid } from './uuid.js';
import { builtins as x509 } from './x509.js';

export const BUILTINS: BuiltinTable = {
  ...core,
  // family spreads (one line each):
  ...aggregates,
  ...arrays,
  ...bits,
  ...glob,
  ...numbers,
  ...providers,
  ...regex,
  ...sets,
  ...strings,
  ...types,
  ...units,
  ...graph,
  ...template,
  ...jsonschema,
  ...encoding,
  ...json,
  ...objects,
  ...semver,
  ...walk,
  ...crypto,
  ...graphql,
  ...host,
  ...jwt,
  ...net,
  ...time,
  ...uuid,
  ...x509,
};

// walk is a relation: each [path, value] pair is its own solution
if (BUILTINS.walk) BUILTINS.walk = { ...BUILTINS.walk, relation: true };

export * from './registry.js';
