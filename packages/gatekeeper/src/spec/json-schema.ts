/** Generates spec/*.schema.json from the zod schemas, so the published contract and the code cannot drift. */
import { z } from 'zod';
import { Decision } from './decision.js';
import { Input } from './input.js';

const BASE = 'https://oagf.dev/spec/v1/';

function document(schema: z.ZodType, file: string, title: string): string {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' });
  return `${JSON.stringify({ ...json, $id: `${BASE}${file}`, title }, null, 2)}\n`;
}

/** File name (under spec/) → content. */
export function specFiles(): Record<string, string> {
  return {
    'input.schema.json': document(Input, 'input.schema.json', 'OAGF v1 policy input'),
    'decision.schema.json': document(Decision, 'decision.schema.json', 'OAGF v1 decision'),
  };
}
