/**
 * graphql.* builtins (OPA topdown/graphql.go). Parsing is ours (gqlparse.ts, gqlparser's AST and
 * errors); schema building and query validation are graphql-js's, fed with the printed AST.
 */
import { buildASTSchema, GraphQLError, parse, validate, validateSchema, type GraphQLSchema } from 'graphql';
import { fromJSON, isObject, makeObject, toJSON, type Value } from '../value.js';
import {
  GqlSyntaxError, parseQueryDocument, parseSchemaDocument, printQueryDocument, printSchemaDocument,
} from './go/gqlparser.js';
import { BuiltinError, type BuiltinDef, type BuiltinTable } from './registry.js';

type J = Record<string, unknown>;

/** OPA's pruneIrrelevantGraphQLASTNodes: no Position, no nulls, no empty arrays/objects. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.map(prune).filter((x) => x !== null && x !== undefined && !isEmpty(x));
  }
  if (v !== null && typeof v === 'object') {
    const out: J = {};
    for (const [k, x] of Object.entries(v as J)) {
      if (k === 'Position') continue;
      const p = prune(x);
      if (p === null || p === undefined || isEmpty(p)) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

function isEmpty(x: unknown): boolean {
  if (Array.isArray(x)) return x.length === 0;
  return typeof x === 'object' && x !== null && Object.keys(x).length === 0;
}

function syntax<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof GqlSyntaxError) throw new BuiltinError(e.message);
    throw e;
  }
}

interface Doc { ast: J; text: string }

function queryDoc(v: Value): Doc {
  if (typeof v === 'string') return { ast: syntax(() => parseQueryDocument(v)), text: v };
  const text = printQueryDocument(toJSON(v) as J);
  return { ast: syntax(() => parseQueryDocument(text)), text };
}

function schemaDoc(v: Value): Doc {
  if (typeof v === 'string') return { ast: syntax(() => parseSchemaDocument(v)), text: v };
  const text = printSchemaDocument(toJSON(v) as J);
  return { ast: syntax(() => parseSchemaDocument(text)), text };
}

function locationSuffix(e: GraphQLError): string {
  const loc = e.locations?.[0];
  return loc ? ` in GraphQL string at location ${loc.line}:${loc.column}` : '';
}

/** gqlparser's schema loading: extending an undefined type defines it; a missing Query root is allowed. */
function convertSchema(doc: Doc): GraphQLSchema {
  const ast = doc.ast;
  const defined = new Set(((ast.Definitions as J[] | null) ?? []).map((d) => d.Name as string));
  const definitions = [...((ast.Definitions as J[] | null) ?? [])];
  const extensions: J[] = [];
  for (const ext of (ast.Extensions as J[] | null) ?? []) {
    if (defined.has(ext.Name as string)) extensions.push(ext);
    else {
      defined.add(ext.Name as string);
      definitions.push(ext);
    }
  }
  const text = printSchemaDocument({ ...ast, Definitions: definitions, Extensions: extensions });
  try {
    const schema = buildASTSchema(parse(text));
    const errors = validateSchema(schema).filter((e) => !/root type must be provided/.test(e.message));
    if (errors.length > 0) throw errors[0];
    return schema;
  } catch (e) {
    throw new BuiltinError(`Error in gqlparser SchemaDocument to Schema conversion: ${(e as Error).message.replace(/\.$/, '')}`);
  }
}

function validateQuery(schema: GraphQLSchema, doc: Doc): void {
  // A document without definitions has nothing to validate (graphql-js cannot even parse it).
  if (!doc.ast.Operations && !doc.ast.Fragments) return;
  let errors: readonly GraphQLError[];
  try {
    errors = validate(schema, parse(doc.text, { allowLegacyFragmentVariables: true }));
  } catch (e) {
    throw new BuiltinError((e as Error).message);
  }
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new BuiltinError(`${e.message.replace(/\.$/, '')}${locationSuffix(e)}`);
  }
}

const astValue = (ast: J): Value => fromJSON(prune(ast));

/** Parses and validates; returns both ASTs. Throws BuiltinError on any failure. */
function parseAndValidate(q: Value, s: Value): [Value, Value] {
  const query = queryDoc(q);
  const schema = schemaDoc(s);
  validateQuery(convertSchema(schema), query);
  return [astValue(query.ast), astValue(schema.ast)];
}

function succeeds(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof BuiltinError) return false;
    throw e;
  }
}

const DOC = 'string|object[any:any]';

const table: BuiltinDef[] = [
  { name: 'graphql.parse', args: [DOC, DOC], result: 'array[object[any:any]]', fn: ([q, s]) => parseAndValidate(q!, s!) },
  { name: 'graphql.parse_and_verify', args: [DOC, DOC], result: 'array[any]',
    fn: ([q, s]) => {
      try {
        return [true, ...parseAndValidate(q!, s!)];
      } catch (e) {
        if (e instanceof BuiltinError) return [false, makeObject([]), makeObject([])];
        throw e;
      }
    } },
  { name: 'graphql.parse_query', args: ['string'], result: 'object[any:any]', fn: ([q]) => astValue(queryDoc(q!).ast) },
  { name: 'graphql.parse_schema', args: ['string'], result: 'object[any:any]', fn: ([s]) => astValue(schemaDoc(s!).ast) },
  { name: 'graphql.is_valid', args: [DOC, DOC], result: 'boolean',
    fn: ([q, s]) => succeeds(() => validateQuery(convertSchema(schemaDoc(s!)), queryDoc(q!))) },
  { name: 'graphql.schema_is_valid', args: [DOC], result: 'boolean',
    fn: ([s]) => (isObject(s!) || typeof s === 'string') && succeeds(() => convertSchema(schemaDoc(s!))) },
];

export const builtins: BuiltinTable = Object.fromEntries(table.map((b) => [b.name, b]));
