/**
 * Ledger benchmark: durable appends/s at concurrency 64, inclusion proofs/s at 1,000,000 entries, and the time
 * of a full offline verify of 1,000,000 entries. The last line of output is one JSON object.
 * Env: LEDGER_BENCH_ENTRIES (default 1000000), LEDGER_BENCH_APPENDS (default 200000), LEDGER_BENCH_VERIFY_RUNS
 * (default 3; verify_1m_s is their median).
 * `--store postgres` runs the PostgreSQL bench instead (postgres.ts), `--store write-path` the comparison of ways
 * to write a batch (write-path.ts).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { canonicalJson, generateKey, hashLeaf, openLedger, verifyInclusion, verifyLedgerFile } from '@oagf/ledger';
import { appendConcurrently } from './records.js';
import { sized } from '../quick.js';

const TOTAL = sized('LEDGER_BENCH_ENTRIES', 1_000_000, 5_000);
const MEASURED_APPENDS = Math.min(TOTAL, sized('LEDGER_BENCH_APPENDS', 200_000, 2_000));
const VERIFY_RUNS = sized('LEDGER_BENCH_VERIFY_RUNS', 3, 1);
const CONCURRENCY = 64;
const ORIGIN = 'bench.gatekeeper.example/ledger';

/** CPU time (all threads, µs) spent since `since`; less skewed than wall time when the machine is shared. */
function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const storeArg = process.argv.indexOf('--store');
const store = storeArg > 0 ? process.argv[storeArg + 1] : 'sqlite';
if (store === 'postgres') {
  await import('./postgres.js');
} else if (store === 'write-path') {
  await import('./write-path.js');
} else if (store !== 'sqlite') {
  throw new Error(`--store must be sqlite, postgres or write-path, got ${JSON.stringify(store)}`);
} else {
  await sqliteBench();
}

async function sqliteBench(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const path = join(dir, 'ledger.db');
  try {
    const { skey, vkey } = generateKey(ORIGIN);
    const ledger = await openLedger({ path, origin: ORIGIN, signingKey: skey, checkpointEvery: { entries: 10_000, ms: 1000 } });

    const { seconds: appendSeconds, cpuUs: appendCpuUs } = await appendConcurrently(ledger, 0, MEASURED_APPENDS, CONCURRENCY);
    const appendsPerS = MEASURED_APPENDS / appendSeconds;
    log(`durable appends: ${MEASURED_APPENDS} at concurrency ${CONCURRENCY} in ${appendSeconds.toFixed(2)} s = ${Math.round(appendsPerS)}/s`);

    const { seconds: fillSeconds } = await appendConcurrently(ledger, MEASURED_APPENDS, TOTAL, 1024);
    log(`filled to ${TOTAL} entries (concurrency 1024) in ${fillSeconds.toFixed(2)} s`);
    const checkpoint = await ledger.checkpointNow();

    const root = await ledger.rootAt(TOTAL);
    const proofCount = 50_000;
    const indexes = Array.from({ length: proofCount }, () => randomInt(TOTAL));
    let started = performance.now();
    const proofCpu = process.cpuUsage();
    const proofs: Uint8Array[][] = [];
    for (const i of indexes) proofs.push(await ledger.inclusionProof(i, TOTAL));
    const proofSeconds = (performance.now() - started) / 1000;
    const proofCpuUs = cpuMicros(proofCpu);
    const proofsPerS = proofCount / proofSeconds;
    log(`inclusion proofs at size ${TOTAL}: ${proofCount} in ${proofSeconds.toFixed(2)} s = ${Math.round(proofsPerS)}/s`);

    started = performance.now();
    const sample = 5000;
    for (let i = 0; i < sample; i++) {
      const leaf = hashLeaf(Buffer.from(canonicalJson(await ledger.getRecord(indexes[i]!))));
      if (!verifyInclusion(indexes[i]!, TOTAL, leaf, proofs[i]!, root)) throw new Error(`proof for ${indexes[i]} does not verify`);
    }
    log(`spot-checked ${sample} proofs against the root (${((performance.now() - started) / sample * 1000).toFixed(1)} µs each incl. lookup)`);
    await ledger.close();
    log(`database: ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB; checkpoint:\n${checkpoint.trimEnd()}`);

    // Verify is the figure most skewed by other work on a shared machine: take the median of several runs.
    const verifyRuns: { seconds: number; cpuS: number; load: number }[] = [];
    for (let run = 0; run < VERIFY_RUNS; run++) {
      const load = loadavg()[0]!;
      started = performance.now();
      const verifyCpu = process.cpuUsage();
      const report = await verifyLedgerFile(path, { vkeys: [vkey] });
      verifyRuns.push({ seconds: (performance.now() - started) / 1000, cpuS: cpuMicros(verifyCpu) / 1e6, load });
      if (!report.ok) throw new Error(`verify failed: ${report.problem?.message}`);
      log(`full verify of ${report.entries} entries, ${report.nodes} nodes, ${report.checkpoints} checkpoints: ${verifyRuns.at(-1)!.seconds.toFixed(2)} s (${verifyRuns.at(-1)!.cpuS.toFixed(2)} s CPU, load average ${load.toFixed(2)})`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const verifySeconds = median(verifyRuns.map((r) => r.seconds));

    log(JSON.stringify({
      entries: TOTAL,
      concurrency: CONCURRENCY,
      appends_per_s: Math.round(appendsPerS),
      proofs_per_s: Math.round(proofsPerS),
      verify_1m_s: Number((verifySeconds * (1_000_000 / TOTAL)).toFixed(2)),
      verify_s: Number(verifySeconds.toFixed(2)),
      fill_appends_per_s: Math.round((TOTAL - MEASURED_APPENDS) / fillSeconds),
      append_cpu_us: Number((appendCpuUs / MEASURED_APPENDS).toFixed(1)),
      proof_cpu_us: Number((proofCpuUs / proofCount).toFixed(1)),
      verify_runs_s: verifyRuns.map((r) => Number(r.seconds.toFixed(2))),
      verify_cpu_s: Number(median(verifyRuns.map((r) => r.cpuS)).toFixed(2)),
      verify_load_avg: verifyRuns.map((r) => Number(r.load.toFixed(2))),
      // Other work on the machine skews every figure; the 1-minute load average at start and end says how much.
      load_avg_start: Number(loadAtStart.toFixed(2)),
      load_avg_end: Number(loadavg()[0]!.toFixed(2)),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
