import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { validateRecord } from '@oagf/ledger';
import { decision } from './helpers.js';

const schema = JSON.parse(readFileSync(new URL('../../../spec/ledger/record.schema.json', import.meta.url), 'utf8'));
const schemaValid = new Ajv2020.default({ strict: true }).compile(schema);

const valid = [
  decision(1),
  { v: 1, type: 'approval.granted', id: 'apr-1', time: '2026-03-01T09:30:00.000Z', links: [{ rel: 'escalation', id: 'dec-3', index: 3 }], data: { reviewer: 'alice' } },
  { v: 1, type: 'budget.settled', id: 'b-1', time: '2026-03-01T09:30:00.000Z', payloads: { trace: `sha256:${'0'.repeat(64)}` } },
];
const invalid: [string, unknown][] = [
  ['v 2', { ...decision(1), v: 2 }],
  ['no id', { v: 1, type: 'decision', time: '2026-03-01T09:30:00.000Z' }],
  ['time without ms', { ...decision(1), time: '2026-03-01T09:30:00Z' }],
  ['type with capitals', { ...decision(1), type: 'Decision' }],
  ['bad outcome', { ...decision(1), outcome: 'allowed' }],
  ['bad action digest', { ...decision(1), action_digest: 'md5:abc' }],
  ['unknown field', { ...decision(1), note: 'x' }],
  ['link without rel', { ...decision(1), links: [{ id: 'x' }] }],
  ['negative link index', { ...decision(1), links: [{ rel: 'r', id: 'x', index: -1 }] }],
  ['payload digest not sha256', { ...decision(1), payloads: { trace: 'abc' } }],
  ['reasons not strings', { ...decision(1), reasons: [1] }],
  ['data not an object', { ...decision(1), data: [] }],
];

test('spec/ledger/record.schema.json and validateRecord agree', () => {
  for (const record of valid) {
    assert.equal(schemaValid(record), true, JSON.stringify(schemaValid.errors));
    assert.doesNotThrow(() => validateRecord(record));
  }
  for (const [why, record] of invalid) {
    assert.equal(schemaValid(record), false, `schema accepts: ${why}`);
    assert.throws(() => validateRecord(record), /invalid ledger record/, `validateRecord accepts: ${why}`);
  }
});
