/**
 * `npm run bench:ledger -- --store write-path`: the cost of committing a group-commit batch on the ledger's write
 * path, by three ways of writing it, in both durability modes, batches of 64 and 1024 entries:
 * - rows: one prepared INSERT run per entry inside a transaction (what sqlite-writer.ts does);
 * - multirow: prepared INSERTs of 64 rows each (fewer calls into SQLite per entry);
 * - segment: an append-only file of length-prefixed records, one write() per batch, then fdatasync (fsync mode)
 *   or nothing (buffered) — the floor a custom log file could reach, without any of SQLite's indexes.
 * Runs alternate (rows, multirow, segment, rows, ...) and the medians are reported. The last line is JSON.
 * Env: LEDGER_BENCH_WRITE_ENTRIES (per run, default 50000), LEDGER_BENCH_WRITE_RUNS (default 3).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson, hashLeaf } from '@oagf/ledger';
import { decision } from './records.js';
import { sized } from '../quick.js';

const ENTRIES = sized('LEDGER_BENCH_WRITE_ENTRIES', 50_000, 1_000);
const RUNS = sized('LEDGER_BENCH_WRITE_RUNS', 3, 1);
const MULTI = 64;
const SCHEMA = `CREATE TABLE entries (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, leaf BLOB NOT NULL, nodes BLOB NOT NULL, entry BLOB NOT NULL);
CREATE UNIQUE INDEX entries_by_id ON entries (id);`;

type Row = [number, string, Buffer, Buffer, Buffer];
const rows: Row[] = Array.from({ length: ENTRIES }, (_, i) => {
  const entry = Buffer.from(canonicalJson(decision(i)));
  const leaf = Buffer.from(hashLeaf(entry));
  // Appends complete one interior node on average.
  return [i, decision(i).id, leaf, Buffer.alloc(i % 2 === 1 ? 32 : 0, 7), entry];
});

type Writer = { commit(batch: Row[]): void; close(): void };
type Mode = 'fsync' | 'buffered';

function sqlite(path: string, mode: Mode, multi: boolean): Writer {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${mode === 'fsync' ? 'FULL' : 'NORMAL'}`);
  db.exec(SCHEMA);
  const one = db.prepare('INSERT INTO entries (idx, id, leaf, nodes, entry) VALUES (?, ?, ?, ?, ?)');
  const many = db.prepare(`INSERT INTO entries (idx, id, leaf, nodes, entry) VALUES ${Array(MULTI).fill('(?, ?, ?, ?, ?)').join(', ')}`);
  const write = db.transaction((batch: Row[]) => {
    let at = 0;
    if (multi) for (; at + MULTI <= batch.length; at += MULTI) many.run(batch.slice(at, at + MULTI).flat());
    for (; at < batch.length; at++) one.run(...batch[at]!);
  });
  return { commit: write, close: () => db.close() };
}

function segment(path: string, mode: Mode): Writer {
  const fd = openSync(path, 'a');
  return {
    commit(batch) {
      const parts: Buffer[] = [];
      for (const [idx, id, leaf, nodes, entry] of batch) {
        const idBytes = Buffer.from(id);
        const header = Buffer.allocUnsafe(16);
        header.writeUInt32BE(idx, 0);
        header.writeUInt32BE(idBytes.length, 4);
        header.writeUInt32BE(nodes.length, 8);
        header.writeUInt32BE(entry.length, 12);
        parts.push(header, idBytes, leaf, nodes, entry);
      }
      writeSync(fd, Buffer.concat(parts));
      if (mode === 'fsync') fdatasyncSync(fd);
    },
    close: () => closeSync(fd),
  };
}

const METHODS = { rows: (p: string, m: Mode) => sqlite(p, m, false), multirow: (p: string, m: Mode) => sqlite(p, m, true), segment } as const;
type Method = keyof typeof METHODS;

function run(method: Method, mode: Mode, batchSize: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-write-path-'));
  try {
    const writer = METHODS[method](join(dir, 'log'), mode);
    const started = performance.now();
    for (let at = 0; at < rows.length; at += batchSize) writer.commit(rows.slice(at, at + batchSize));
    const seconds = (performance.now() - started) / 1000;
    writer.close();
    return ENTRIES / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const loadAtStart = loadavg()[0]!;
const results: Record<string, number> = {};
for (const mode of ['fsync', 'buffered'] as const) {
  for (const batchSize of [64, 1024]) {
    const samples: Record<Method, number[]> = { rows: [], multirow: [], segment: [] };
    for (let r = 0; r < RUNS; r++) for (const method of Object.keys(METHODS) as Method[]) samples[method].push(run(method, mode, batchSize));
    for (const method of Object.keys(METHODS) as Method[]) {
      results[`${mode}_batch${batchSize}_${method}_per_s`] = Math.round(median(samples[method]));
    }
    const [rowsRate, multiRate, segmentRate] = (['rows', 'multirow', 'segment'] as const).map((m) => median(samples[m]));
    process.stdout.write(`${mode}, batches of ${batchSize}: rows ${Math.round(rowsRate!)}/s, multirow ${Math.round(multiRate!)}/s (${(multiRate! / rowsRate!).toFixed(2)}x), segment ${Math.round(segmentRate!)}/s (${(segmentRate! / rowsRate!).toFixed(2)}x)\n`);
  }
}
process.stdout.write(`${JSON.stringify({ entries: ENTRIES, runs: RUNS, ...results, load_avg_start: Number(loadAtStart.toFixed(2)), load_avg_end: Number(loadavg()[0]!.toFixed(2)) })}\n`);
