import { accessSync, constants, statSync } from 'node:fs';
import type { Language } from './types.js';

/** Interpreters per language, as paths inside the sandbox (the host's /usr is mounted read-only at /usr). */
export type Runtimes = Partial<Record<Exclude<Language, 'binary'>, string>>;

const CANDIDATES: Record<Exclude<Language, 'binary'>, string[]> = {
  python: ['/usr/bin/python3', '/usr/local/bin/python3'],
  javascript: ['/usr/bin/node', '/usr/local/bin/node', '/usr/bin/nodejs'],
  shell: ['/usr/bin/bash', '/bin/bash', '/usr/bin/sh'],
};

function usable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    // World-executable: the sandbox runs as an unprivileged uid, not as this process's user.
    return (statSync(path).mode & 0o001) !== 0;
  } catch {
    return false;
  }
}

export function resolveRuntimes(configured: Runtimes = {}): Runtimes {
  const out: Runtimes = {};
  for (const [language, candidates] of Object.entries(CANDIDATES) as [Exclude<Language, 'binary'>, string[]][]) {
    const found = configured[language] ?? candidates.find(usable);
    if (found) out[language] = found;
  }
  return out;
}

/** The file name the code gets inside the sandbox (the extension matters to Node's module detection). */
export const CODE_FILE: Record<Language, string> = {
  python: 'main.py',
  javascript: 'main.js',
  shell: 'main.sh',
  binary: 'main',
};
