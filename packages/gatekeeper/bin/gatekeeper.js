#!/usr/bin/env node
// The `gatekeeper` command. npm links bins at install time, before `npm run build` has made dist/, so this file is
// committed: it runs the build when there is one at least as new as the sources, and otherwise the TypeScript
// sources through tsx (a dev dependency of the workspace), so `npx gatekeeper` works right after `npm install` on
// a fresh clone and never runs a stale build during development. The sources import the other workspace packages
// through their "development" export condition, which only a fresh process can switch on: hence the child.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
  const cli = fileURLToPath(new URL('cli.ts', src));
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--conditions=development', '--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}
