/**
 * json.verify_schema and json.match_schema. Validation runs on ajv; schema and errors are
 * mapped to what OPA's gojsonschema reports (draft-04/06/07 keywords, error objects with
 * `error`, `type`, `field`, `desc` and gojsonschema's wording).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { toFloat } from '../num.js';
import { isArray, isNum, isObject, isSet, makeObject, type Value } from '../value.js';
import { BuiltinError, type BuiltinTable } from './registry.js';
import { isValidJSON, marshal, parseJSON } from './go/json.js';

const ajv = new Ajv({ allErrors: true, strict: false, logger: false, validateSchema: true });
const CACHE_MAX = 200;
const compiled = new Map<string, ValidateFunction>();

const PRIMITIVES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

class SchemaError extends Error {}

/** A schema or document operand as plain JSON (numbers as JS numbers, sets as arrays). */
function loadJSON(v: Value): unknown {
  if (typeof v === 'string') {
    if (!isValidJSON(v)) throw new SchemaError('invalid JSON string');
    return plain(parseJSON(v));
  }
  if (isObject(v) || isArray(v)) return plain(v);
  throw new SchemaError('wrong type, expected string or object');
}

function plain(v: Value): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (isNum(v)) return toFloat(v);
  if (isArray(v)) return v.map(plain);
  if (isSet(v)) return v.values().map(plain);
  const o: Record<string, unknown> = {};
  for (const [k, x] of v.entries()) o[typeof k === 'string' ? k : marshal(k)] = plain(x);
  return o;
}

/** Rejects unknown primitive types with gojsonschema's text and rewrites draft-04 forms for ajv. */
function normalizeSchema(s: unknown, root = true): unknown {
  if (Array.isArray(s)) return s.map((x) => normalizeSchema(x, false));
  if (s === null || typeof s !== 'object') return s;
  const o: Record<string, unknown> = { ...(s as Record<string, unknown>) };
  if (root && typeof o.$schema === 'string' && /json-schema\.org\/draft-0[4-7]\/schema/.test(o.$schema)) delete o.$schema;
  const types = typeof o.type === 'string' ? [o.type] : Array.isArray(o.type) ? o.type : [];
  for (const t of types) {
    if (typeof t === 'string' && !PRIMITIVES.includes(t)) {
      throw new SchemaError(`has a primitive type that is NOT VALID -- given: /${t}/ Expected valid values are:[${PRIMITIVES.join(' ')}]`);
    }
  }
  // draft-04: boolean exclusiveMinimum/exclusiveMaximum modify minimum/maximum
  if (o.exclusiveMaximum === true && typeof o.maximum === 'number') { o.exclusiveMaximum = o.maximum; delete o.maximum; }
  if (o.exclusiveMinimum === true && typeof o.minimum === 'number') { o.exclusiveMinimum = o.minimum; delete o.minimum; }
  if (o.exclusiveMaximum === false) delete o.exclusiveMaximum;
  if (o.exclusiveMinimum === false) delete o.exclusiveMinimum;
  if (typeof o.id === 'string' && o.$id === undefined) { o.$id = o.id; delete o.id; }
  for (const [k, x] of Object.entries(o)) {
    if (k !== 'enum' && k !== 'const' && k !== 'default' && k !== 'examples') o[k] = normalizeSchema(x, false);
  }
  return o;
}

function compileSchema(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = compiled.get(key);
  if (fn) return fn;
  const normalized = normalizeSchema(schema);
  try {
    fn = ajv.compile(normalized as object);
  } catch (e) {
    throw new SchemaError((e as Error).message);
  }
  if (compiled.size >= CACHE_MAX) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, fn);
  return fn;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function at(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return cur;
}

/** gojsonschema field names: "(root)", "a", "a.b", "list.0". */
function fieldOf(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
}

function describe(e: ErrorObject, doc: unknown, field: string): [string, string] | undefined {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': return ['invalid_type', `Invalid type. Expected: ${String(p.type)}, given: ${jsonType(at(doc, e.instancePath))}`];
    case 'required': return ['required', `${String(p.missingProperty)} is required`];
    case 'enum': return ['enum', `${field} must be one of the following: ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`];
    case 'const': return ['const', `${field} does not match: ${JSON.stringify(p.allowedValue)}`];
    case 'minLength': return ['string_gte', `String length must be greater than or equal to ${String(p.limit)}`];
    case 'maxLength': return ['string_lte', `String length must be less than or equal to ${String(p.limit)}`];
    case 'pattern': return ['pattern', `Does not match pattern '${String(p.pattern)}'`];
    case 'format': return ['format', `Does not match format '${String(p.format)}'`];
    case 'minimum': return ['number_gte', `Must be greater than or equal to ${String(p.limit)}`];
    case 'exclusiveMinimum': return ['number_gt', `Must be greater than ${String(p.limit)}`];
    case 'maximum': return ['number_lte', `Must be less than or equal to ${String(p.limit)}`];
    case 'exclusiveMaximum': return ['number_lt', `Must be less than ${String(p.limit)}`];
    case 'multipleOf': return ['multiple_of', `Must be a multiple of ${String(p.multipleOf)}`];
    case 'minItems': return ['array_min_items', `Array must have at least ${String(p.limit)} items`];
    case 'maxItems': return ['array_max_items', `Array must have at most ${String(p.limit)} items`];
    case 'uniqueItems': return ['unique', `array items[${String(p.j)},${String(p.i)}] must be unique`];
    case 'additionalProperties': return ['additional_property_not_allowed', `Additional property ${String(p.additionalProperty)} is not allowed`];
    case 'minProperties': return ['array_min_properties', `Must have at least ${String(p.limit)} properties`];
    case 'maxProperties': return ['array_max_properties', `Must have at most ${String(p.limit)} properties`];
    case 'anyOf': return ['number_any_of', 'Must validate at least one schema (anyOf)'];
    case 'oneOf': return ['number_one_of', 'Must validate one and only one schema (oneOf)'];
    case 'not': return ['number_not', 'Must not validate the schema (not)'];
    case 'dependencies': case 'dependentRequired': return ['missing_dependency', `Has a dependency on ${String(p.missingProperty)}`];
    case 'contains': return ['contains', 'At least one of the items must match'];
    case 'additionalItems': return ['array_no_additional_items', 'No additional items allowed on array'];
    case 'if': return p.failingKeyword === 'else'
      ? ['condition_else', 'Must validate "else" as "if" was not valid']
      : ['condition_then', 'Must validate "then" as "if" was valid'];
    case 'false schema': return ['false', 'False always fails validation'];
    case 'propertyNames': return ['invalid_property_name', `Property "${String(p.propertyName)}" does not match pattern`];
    default: return [e.keyword, e.message ?? 'invalid'];
  }
}

function matchSchema(docV: Value, schemaV: Value): Value {
  let doc: unknown, validate: ValidateFunction;
  try {
    doc = loadJSON(docV);
    validate = compileSchema(loadJSON(schemaV));
  } catch (e) {
    if (e instanceof SchemaError) throw new BuiltinError(e.message);
    throw e;
  }
  if (validate(doc)) return [true, []];
  const errors: Value[] = [];
  for (const e of validate.errors ?? []) {
    const field = fieldOf(e.instancePath);
    const d = describe(e, doc, field);
    if (!d) continue;
    const [type, desc] = d;
    errors.push(makeObject([['error', `${field}: ${desc}`], ['type', type], ['field', field], ['desc', desc]]));
  }
  return [false, errors];
}

function verifySchema(schemaV: Value): Value {
  try {
    compileSchema(loadJSON(schemaV));
    return [true, null];
  } catch (e) {
    if (e instanceof SchemaError) return [false, `jsonschema: ${e.message}`];
    throw e;
  }
}

export const builtins: BuiltinTable = {
  'json.verify_schema': {
    name: 'json.verify_schema',
    args: ['string|object'],
    result: 'array',
    fn: ([s]) => verifySchema(s),
  },
  'json.match_schema': {
    name: 'json.match_schema',
    args: ['string|object', 'string|object'],
    result: 'array',
    fn: ([d, s]) => matchSchema(d, s),
  },
};
