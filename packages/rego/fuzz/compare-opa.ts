/**
 * Differential run against real OPA (not run in CI: needs an `opa` binary).
 *   OPA_BIN=/path/to/opa node --import tsx --conditions=development fuzz/compare-opa.ts [count] [first-seed] [out-dir]
 * Generates `count` programs, evaluates each with `opa eval --format json` and with this engine, minimises every
 * mismatch (dropping rules, then body lines, while the engines still disagree) and writes each as a case
 * (module, input, both outcomes) to out-dir; prints one line per mismatch and a summary.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, type Program } from './generate.js';
import { fromOpaOutput, ours, same, type Outcome } from './outcome.js';

const opa = process.env.OPA_BIN;
if (!opa) {
  process.stderr.write('set OPA_BIN to the path of an opa binary\n');
  process.exit(2);
}
const count = Number(process.argv[2] ?? 500);
const first = Number(process.argv[3] ?? 1);
const outDir = process.argv[4] ?? join(tmpdir(), 'rego-fuzz-mismatches');
mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'rego-fuzz-'));

function runOpa(p: Program): Outcome {
  writeFileSync(join(work, 'p.rego'), p.module);
  writeFileSync(join(work, 'input.json'), JSON.stringify(p.input));
  let stdout: string;
  try {
    stdout = execFileSync(opa!, ['eval', '--format', 'json', '-d', join(work, 'p.rego'), '-i', join(work, 'input.json'), p.query], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  return fromOpaOutput(stdout);
}

function ourOutcome(p: Program): Outcome {
  try {
    return ours(p);
  } catch (e) {
    return { kind: 'error', code: 'crash', message: String((e as Error).stack ?? e) };
  }
}

const differs = (p: Program) => !same(runOpa(p), ourOutcome(p));

/** Drops whole rules (blank-line separated), then single body lines, while the mismatch remains. */
function minimise(p: Program): Program {
  let cur = p;
  const tryWith = (module: string) => {
    const q = { ...cur, module };
    if (differs(q)) { cur = q; return true; }
    return false;
  };
  const [head, ...rules] = cur.module.trimEnd().split('\n\n');
  for (let i = rules.length - 1; i >= 0; i--) {
    const parts = cur.module.trimEnd().split('\n\n').slice(1);
    const idx = parts.indexOf(rules[i]);
    if (idx >= 0 && parts.length > 1) tryWith(`${[head, ...parts.filter((_, j) => j !== idx)].join('\n\n')}\n`);
  }
  let lines = cur.module.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('\t')) continue;
    const cand = lines.filter((_, j) => j !== i);
    if (tryWith(cand.join('\n'))) lines = cand;
  }
  return cur;
}

let mismatches = 0;
const categories = new Map<string, number>();
for (let seed = first; seed < first + count; seed++) {
  const p = generate(seed);
  const a = runOpa(p), b = ourOutcome(p);
  if (same(a, b)) continue;
  mismatches++;
  const m = minimise(p);
  const ma = runOpa(m), mb = ourOutcome(m);
  const cat = `opa ${ma.kind === 'error' ? ma.code : ma.kind} / ours ${mb.kind === 'error' ? mb.code : mb.kind}`;
  categories.set(cat, (categories.get(cat) ?? 0) + 1);
  writeFileSync(join(outDir, `seed-${seed}.json`), JSON.stringify({ seed, module: m.module, input: m.input, opa: ma, ours: mb }, null, 2));
  process.stdout.write(`seed ${seed}: ${cat}\n`);
}
process.stdout.write(`${count} programs, ${mismatches} mismatches (cases in ${outDir})\n`);
for (const [c, n] of categories) process.stdout.write(`  ${n}  ${c}\n`);
