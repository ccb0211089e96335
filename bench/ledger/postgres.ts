/**
 * `npm run bench:ledger -- --store postgres`: durable appends/s on the PostgreSQL driver with 1 and with 3 writer
 * processes (each at concurrency 64, one of them integrating), against the SQLite driver's figure in the same run,
 * and the rate of inclusion proofs served from each. The last line of output is one JSON object.
 * Env: LEDGER_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), LEDGER_BENCH_PG_APPENDS (appends per
 * run, default 60000), LEDGER_BENCH_PROOFS (default 20000).
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateKey, openLedger, postgresDriver, sqliteDriver, type Ledger, type LedgerDriver } from '@oagf/ledger';
import { appendConcurrently } from './records.js';
import { sized } from '../quick.js';

const URL_ = process.env.LEDGER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const APPENDS = sized('LEDGER_BENCH_PG_APPENDS', 60_000, 1_000);
const PROOFS = sized('LEDGER_BENCH_PROOFS', 20_000, 500);
const CONCURRENCY = 64;
const ORIGIN = 'bench.gatekeeper.example/ledger';
const writerScript = fileURLToPath(new URL('./pg-writer.ts', import.meta.url));
const { skey } = generateKey(ORIGIN);
const schemas: string[] = [];

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface WriterResult {
  started: number;
  ended: number;
  count: number;
  cpuUs: number;
}

/** Starts `writers` processes on one fresh schema, lets them append together, returns the aggregate rate. */
async function postgresAppends(writers: number): Promise<{ schema: string; perS: number; cpuUsPerAppend: number }> {
  const schema = `ledger_bench_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  const children = Array.from({ length: writers }, (_, i) =>
    spawn(process.execPath, ['--import', 'tsx', '--conditions=development', writerScript, URL_, schema, skey, ORIGIN, `w${i}`, String(Math.ceil(APPENDS / writers)), String(CONCURRENCY)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const outputs = children.map((child) => {
    let text = '';
    child.stdout!.setEncoding('utf8');
    const ready = new Promise<void>((resolve) => child.stdout!.on('data', (chunk: string) => (text += chunk).includes('ready\n') && resolve()));
    const done = new Promise<WriterResult>((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text.trim().split('\n').at(-1)!) as WriterResult) : reject(new Error(`bench writer exited with ${code}`)))),
    );
    return { ready, done };
  });
  // The first writer migrates the schema; the others open once it exists.
  await Promise.all(outputs.map((o) => o.ready));
  for (const child of children) child.stdin!.end('go\n');
  const results = await Promise.all(outputs.map((o) => o.done));
  const seconds = (Math.max(...results.map((r) => r.ended)) - Math.min(...results.map((r) => r.started))) / 1000;
  const total = results.reduce((sum, r) => sum + r.count, 0);
  return { schema, perS: total / seconds, cpuUsPerAppend: results.reduce((sum, r) => sum + r.cpuUs, 0) / total };
}

/** Inclusion proofs at the ledger's size, 32 in flight (a tiles or proof endpoint under load). */
async function proofRate(ledger: Ledger): Promise<number> {
  const size = ledger.size();
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (done < PROOFS) {
        done++;
        await ledger.inclusionProof(randomInt(size), size);
      }
    }),
  );
  return PROOFS / ((performance.now() - started) / 1000);
}

async function open(driver: LedgerDriver): Promise<Ledger> {
  return openLedger({ driver, origin: ORIGIN, signingKey: skey, checkpointEvery: { entries: 10_000, ms: 1000 } });
}

const loadAtStart = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-pg-'));
try {
  const sqlite = await open(sqliteDriver({ path: join(dir, 'ledger.db') }));
  const sqliteRun = await appendConcurrently(sqlite, 0, APPENDS, CONCURRENCY);
  const sqlitePerS = APPENDS / sqliteRun.seconds;
  log(`sqlite: ${APPENDS} durable appends at concurrency ${CONCURRENCY} in one process: ${Math.round(sqlitePerS)}/s`);

  const one = await postgresAppends(1);
  log(`postgres, 1 writer process: ${Math.round(one.perS)}/s (${one.cpuUsPerAppend.toFixed(1)} µs CPU per append in the writer)`);
  const three = await postgresAppends(3);
  log(`postgres, 3 writer processes: ${Math.round(three.perS)}/s aggregate (${three.cpuUsPerAppend.toFixed(1)} µs CPU per append in the writers)`);

  const sqliteProofs = await proofRate(sqlite);
  await sqlite.close();
  const reader = await open(postgresDriver({ url: URL_, schema: three.schema }));
  await reader.checkpointNow();
  const pgProofs = await proofRate(reader);
  await reader.close();
  log(`inclusion proofs, 32 in flight: sqlite ${Math.round(sqliteProofs)}/s, postgres ${Math.round(pgProofs)}/s (at ${APPENDS} entries)`);

  log(JSON.stringify({
    appends: APPENDS,
    concurrency_per_writer: CONCURRENCY,
    sqlite_appends_per_s: Math.round(sqlitePerS),
    postgres_1_writer_appends_per_s: Math.round(one.perS),
    postgres_3_writers_appends_per_s: Math.round(three.perS),
    postgres_3_writers_vs_sqlite: Number((three.perS / sqlitePerS).toFixed(2)),
    postgres_append_cpu_us: Number(three.cpuUsPerAppend.toFixed(1)),
    sqlite_proofs_per_s: Math.round(sqliteProofs),
    postgres_proofs_per_s: Math.round(pgProofs),
    load_avg_start: Number(loadAtStart.toFixed(2)),
    load_avg_end: Number(loadavg()[0]!.toFixed(2)),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}
