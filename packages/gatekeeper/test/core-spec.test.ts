import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createGate, evaluate } from '../src/gate/index.js';
import { readBundle } from '../src/policy/bundle.js';
import { compileBundle } from '../src/policy/rego.js';
import { staticSource } from '../src/policy/engine.js';
import { specFiles } from '../src/spec/json-schema.js';
import { MemoryLog, fnPolicy, planner } from './core/doubles.js';

const specDir = new URL('../../../spec/', import.meta.url);

test('committed spec/*.schema.json match the zod schemas (run `npm run spec -w @oagf/gatekeeper`)', () => {
  for (const [name, text] of Object.entries(specFiles())) {
    assert.equal(readFileSync(new URL(name, specDir), 'utf8'), text, `spec/${name} is stale`);
  }
});

test('documents the gate produces validate against the published JSON Schemas', async () => {
  const ajv = new Ajv2020({ strict: false });
  const files = specFiles();
  const validInput = ajv.compile(JSON.parse(files['input.schema.json']!));
  const validDecision = ajv.compile(JSON.parse(files['decision.schema.json']!));
  const policy = fnPolicy(() => ({ outcome: 'escalate', reasons: ['over $1M'], approvers: { groups: ['procurement'], min: 2 } }));
  const out = await createGate({ policy: staticSource(policy), log: new MemoryLog() }).decide({
    agent: { ...planner, delegation: [{ agent: 'orchestrator' }] },
    action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { total: 2_400_000 }, amount: { value: 2_400_000, currency: 'USD' } },
    context: { session_id: 's' },
    surface: 'openai',
  });
  assert.ok(validInput(out.input), JSON.stringify(validInput.errors));
  assert.ok(validDecision(out.decision), JSON.stringify(validDecision.errors));
  assert.equal(validInput({ ...out.input, action: { kind: 'Not A Kind' } }), false);
  assert.equal(validDecision({ ...out.decision, outcome: 'maybe' }), false);
});

test("spec/README.md's input document validates, and the keynote bundle decides it as the README's decision shows", () => {
  const blocks = [...readFileSync(new URL('README.md', specDir), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const [inputText, decisionText] = blocks;
  const input = JSON.parse(inputText!);
  const shown = JSON.parse(decisionText!);
  const ajv = new Ajv2020({ strict: false });
  const validInput = ajv.compile(JSON.parse(specFiles()['input.schema.json']!));
  assert.ok(validInput(input), JSON.stringify(validInput.errors));
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const evaluator = compileBundle(readBundle([join(root, 'policies'), join(root, 'examples/keynote/policy')]), { maxSteps: 1_000_000, timeoutMs: 5_000, explain: 'all' });
  const decided = evaluate(evaluator, input);
  assert.ok('decision' in decided, JSON.stringify(decided));
  assert.match(decided.decision.policy_digest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual({ ...decided.decision, policy_digest: shown.policy_digest }, shown);
});
