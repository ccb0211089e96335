#!/usr/bin/env node
// The `rego` command. npm links bins at install time, before `npm run build` has made dist/, so this file is
// committed: it runs the build when there is one at least as new as the sources, and otherwise the TypeScript
// sources through tsx (a dev dependency of the workspace), so `npx rego` works right after `npm install` on a
// fresh clone and never runs a stale build during development.
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

let cli;
if (existsSync(dist) && (!existsSync(src) || statSync(dist).mtimeMs >= newestSource(src))) {
  cli = await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('cli.ts', src).href);
}
cli.main(process.argv);
