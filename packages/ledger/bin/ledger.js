#!/usr/bin/env node
// The `ledger` bin. npm links bins at install time, before any build, and skips a bin whose file is missing, so
// this committed file is the entry point: it runs the compiled CLI once `npm run build` made dist/, and the
// TypeScript sources through tsx (the workspace's dev dependency) until then.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('ledger: not built yet and tsx is not installed; run `npm run build` (or `npm install` in the repository)\n');
    process.exit(2);
  }
  tsx.register();
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
