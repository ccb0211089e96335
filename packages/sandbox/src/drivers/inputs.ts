import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NormalizedRequest } from '../request.js';
import { CODE_FILE, type Runtimes } from '../runtimes.js';
import { envScript, programArgv, SANDBOX_PATHS } from './bwrap-args.js';

/**
 * Writes an execution's inputs into its sandbox's input directory (a host directory the sandbox sees read-only at
 * /.sandbox): the code, `argv` (working dir, then the program), `env`, and under `files/` the input files and the
 * working dir, which the wrapper copies into /work. Everything is world-readable and nothing is writable for the
 * sandbox: as root these files are root's, and the read-only bind keeps even their owner from changing them.
 */
export function deliverInputs(inputDir: string, request: NormalizedRequest, runtimes: Runtimes): void {
  const files = join(inputDir, 'files');
  for (const file of request.files) {
    const path = join(files, file.path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, file.content, { mode: file.executable ? 0o755 : 0o644, flag: 'wx' });
  }
  if (request.cwd !== '.') mkdirSync(join(files, request.cwd), { recursive: true, mode: 0o755 });
  writeFileSync(join(inputDir, CODE_FILE[request.language]), request.code, { mode: request.language === 'binary' ? 0o555 : 0o444, flag: 'wx' });
  const argv = [join(SANDBOX_PATHS.work, request.cwd), ...programArgv(request, runtimes)];
  writeFileSync(join(inputDir, 'argv'), argv.map((a) => `${a}\0`).join(''), { mode: 0o444, flag: 'wx' });
  writeFileSync(join(inputDir, 'env'), envScript(request.env), { mode: 0o444, flag: 'wx' });
}
