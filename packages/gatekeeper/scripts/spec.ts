/** npm run spec -w @oagf/gatekeeper: writes spec/*.schema.json at the repository root from the zod schemas. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { specFiles } from '../src/spec/json-schema.js';

const specDir = fileURLToPath(new URL('../../../spec/', import.meta.url));
for (const [name, text] of Object.entries(specFiles())) {
  writeFileSync(specDir + name, text);
  console.log(`wrote spec/${name}`);
}
