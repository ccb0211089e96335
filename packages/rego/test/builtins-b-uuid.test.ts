import assert from 'node:assert/strict';
import { test } from 'node:test';
import { valueToString } from '../src/value.js';
import { call, ctx } from './builtins-b-helpers.js';

test('uuid.parse decodes versions 1/2 fields and accepts all google/uuid forms', () => {
  const v2 = valueToString(call('uuid.parse', ['urn:uuid:000003e8-48b9-21ee-b200-325096b39f47'])!);
  assert.equal(v2, '{"clocksequence": 12800, "domain": "Person", "id": 1000, "macvariables": "local:unicast", '
    + '"nodeid": "32-50-96-b3-9f-47", "time": 1693566990121469600, "variant": "RFC4122", "version": 2}');
  assert.equal(valueToString(call('uuid.parse', ['{00000000-0000-4000-8000-000000000000}'])!), '{"variant": "RFC4122", "version": 4}');
  assert.equal(valueToString(call('uuid.parse', ['6bea8ef2d3d33cd184e09bab06a52ece'])!), '{"variant": "RFC4122", "version": 3}');
  assert.equal(call('uuid.parse', ['not-a-uuid']), undefined);
});

test('uuid.rfc4122 is a v4 UUID, stable per key within one query', () => {
  const c = ctx();
  const a = call('uuid.rfc4122', ['a'], c) as string;
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(call('uuid.rfc4122', ['a'], c), a);
  assert.notEqual(call('uuid.rfc4122', ['b'], c), a);
  assert.notEqual(call('uuid.rfc4122', ['a'], ctx()), a);
});
