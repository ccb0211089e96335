#!/usr/bin/env node
// The `sandbox` command. npm links bins at install time, before `npm run build` has made dist/ (so it cannot mark
// dist/cli.js executable), so this file is committed: it runs the build when there is one at least as new as the
// sources, and otherwise the TypeScript sources through tsx (a dev dependency of the workspace).
import { existsSync, readdirSync, statSync } from 'node:fs';

const dist = new URL('../dist/cli.js', import.meta.url);
const src = new URL('../src/', import.meta.url);

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (existsSync(dist) && (!existsSync(src) || statSync(dist).mtimeMs >= newestSource(src))) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('cli.ts', src).href);
}
