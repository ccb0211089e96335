import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toJSON, type Value } from '../src/value.js';
import { call } from './builtins-b-helpers.js';

const SCHEMA = `
  type Query { employeeByID(id: String!): Employee }
  type Employee { id: String! salary: Int! }
`;

test('graphql.parse_query gives gqlparser\'s AST (pruned like OPA)', () => {
  const ast = toJSON(call('graphql.parse_query', ['query q($id: String = "x") { e: employeeByID(id: $id) { id ... on Employee { salary } } }'])!);
  assert.deepEqual(ast, {
    Operations: [{
      Name: 'q', Operation: 'query',
      VariableDefinitions: [{ DefaultValue: { Kind: 3, Raw: 'x' }, Type: { NamedType: 'String', NonNull: false }, Used: false, Variable: 'id' }],
      SelectionSet: [{
        Alias: 'e', Name: 'employeeByID', Arguments: [{ Name: 'id', Value: { Kind: 0, Raw: 'id' } }],
        SelectionSet: [{ Alias: 'id', Name: 'id' }, { TypeCondition: 'Employee', SelectionSet: [{ Alias: 'salary', Name: 'salary' }] }],
      }],
    }],
  });
});

test('graphql parse errors carry gqlparser\'s text and position', () => {
  assert.throws(() => call('graphql.parse_query', ['{']), /^Error: Expected Name, found <EOF> in GraphQL string at location 1:2$/);
  assert.throws(() => call('graphql.parse_query', ['query { a(x: 1 }']), /Expected Name, found } in GraphQL string at location 1:16/);
  assert.throws(() => call('graphql.parse_schema', ['type Foo {}']), /expected at least one definition, found } in GraphQL string at location 1:11/);
  assert.throws(() => call('graphql.parse_schema', ['directive @d on NOWHERE']), /Unexpected Name "NOWHERE"/);
});

test('graphql.parse_schema keeps descriptions, extensions and directive definitions', () => {
  const ast = toJSON(call('graphql.parse_schema', ['"A thing" type T { f(a: [Int!]): String @deprecated } extend type T { g: Int } directive @x repeatable on FIELD | QUERY'])!) as Record<string, unknown>;
  assert.deepEqual((ast.Definitions as Value[])[0], {
    BuiltIn: false, Description: 'A thing', Kind: 'OBJECT', Name: 'T',
    Fields: [{
      Description: '', Name: 'f', Type: { NamedType: 'String', NonNull: false },
      Arguments: [{ Description: '', Name: 'a', Type: { NamedType: '', NonNull: false, Elem: { NamedType: 'Int', NonNull: true } } }],
      Directives: [{ Location: '', Name: 'deprecated' }],
    }],
  });
  assert.equal(((ast.Extensions as Record<string, unknown>[])[0]!).Name, 'T');
  assert.deepEqual(ast.Directives, [{ Description: '', IsRepeatable: true, Locations: ['FIELD', 'QUERY'], Name: 'x' }]);
});

test('graphql.is_valid / parse / parse_and_verify validate queries against the schema', () => {
  assert.equal(call('graphql.is_valid', ['{ employeeByID(id: "1") { id } }', SCHEMA]), true);
  assert.equal(call('graphql.is_valid', ['{ employeeByID(id: "1") { nope } }', SCHEMA]), false);
  assert.equal(call('graphql.is_valid', ['{ employeeByID { id } }', SCHEMA]), false);
  assert.throws(() => call('graphql.parse', ['{ employeeByID { id } }', SCHEMA]),
    /Field "employeeByID" argument "id" of type "String!" is required, but it was not provided in GraphQL string at location 1:3/);
  const [ok, q] = call('graphql.parse_and_verify', ['{ employeeByID(id: "1") { id } }', SCHEMA]) as Value[];
  assert.equal(ok, true);
  // ASTs round-trip as inputs
  const schemaAst = call('graphql.parse_schema', [SCHEMA])!;
  assert.equal(call('graphql.is_valid', [q!, schemaAst]), true);
  assert.deepEqual(toJSON(call('graphql.parse_and_verify', ['{ x }', SCHEMA])!), [false, {}, {}]);
});

test('graphql.schema_is_valid follows gqlparser (extensions may define types; no Query root needed)', () => {
  assert.equal(call('graphql.schema_is_valid', [SCHEMA]), true);
  assert.equal(call('graphql.schema_is_valid', ['extend type User { id: ID! }']), true);
  assert.equal(call('graphql.schema_is_valid', ['type A { b: Missing }']), false);
  assert.equal(call('graphql.schema_is_valid', ['type A { b: Int } type A { c: Int }']), false);
});

test('hostile nesting is a parse error, not a stack overflow', () => {
  assert.throws(() => call('graphql.parse_query', [`{ f(a: ${'['.repeat(100000)}) }`]), /Exceeded maximum nesting depth/);
  assert.throws(() => call('graphql.parse_query', ['{a'.repeat(100000)]), /Exceeded maximum nesting depth/);
});
