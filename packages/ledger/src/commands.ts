import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { toHex } from './hash.js';
import { TreeReader } from './merkle.js';
import { generateCosignerKey, generateKey, parseVerifierKey } from './note.js';
import { serveWitness } from './witness.js';
import { formatProofFile, verifyProofFile } from './proof-file.js';
import { exportPostgresLedger, type ExportReport } from './pg-export.js';
import { decodeRecord } from './record.js';
import { SqliteStore } from './sqlite-store.js';
import { storeLookup } from './store.js';
import { verifyLedgerFile, type VerifyReport } from './verify.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Each --vkey is a verifier key, or a file holding one per line (such as the ledger.vkey the demo writes). */
export function readVkeys(values: readonly string[], option = '--vkey'): string[] {
  return values.flatMap((value) => {
    try {
      parseVerifierKey(value);
      return [value];
    } catch (keyError) {
      if (!existsSync(value)) {
        throw new Error(`${option} ${JSON.stringify(value)} is neither a verifier key nor a file (${(keyError as Error).message})`);
      }
    }
    const keys = readFileSync(value, 'utf8').split('\n').map((line) => line.trim()).filter((line) => line.length > 0 && !line.startsWith('#'));
    if (keys.length === 0) throw new Error(`${option} file ${value} holds no verifier key`);
    for (const key of keys) {
      try {
        parseVerifierKey(key);
      } catch (error) {
        throw new Error(`${option} file ${value}: ${(error as Error).message}`);
      }
    }
    return keys;
  });
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function printReport(path: string, report: VerifyReport, savedFile?: string): void {
  const status = report.ok ? 'OK' : 'FAILED';
  print(`ledger ${path} (origin ${report.origin ?? 'unknown'}): ${status}`);
  // A failed verify says how far it got, so a stop at the first problem never reads as an empty ledger.
  const verified = report.verified === report.entries ? 'all verified' : `${report.verified} verified before the first problem`;
  print(`  entries      ${report.entries}${report.ok ? '' : ` in the ledger, ${verified}`}`);
  print(`  nodes        ${report.nodes}${report.ok ? '' : ' recomputed'}`);
  print(`  checkpoints  ${report.checkpoints}${report.signers.length ? ` signed by ${report.signers.join(', ')}` : ''}`);
  if (report.payloadsChecked) print(`  payloads     ${report.payloads.present} present, ${report.payloads.deleted} deleted by retention`);
  else print('  payloads     not checked (verify stops at the first problem)');
  if (report.root) print(`  root         ${report.root}`);
  if (report.saved?.consistent) {
    print(`  saved        checkpoint of size ${report.saved.size} (${savedFile}): the ledger extends it by ${report.entries - report.saved.size} entries`);
  }
  if (report.keySource === 'database') print('  warning: checked against the keys recorded in the database itself; pass --vkey to check against keys you trust');
  if (report.problem) {
    const where = report.problem.index === undefined ? '' : ` (first bad index ${report.problem.index})`;
    print(`  error${where}: ${report.problem.message}`);
  }
}

async function withStore<T>(path: string, use: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore(path, { readonly: true });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function parseIndex(text: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new Error(`index must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads the tlog-proof for one entry out of a database, against its latest checkpoint. */
function proofFromDatabase(path: string, index: number): Promise<string> {
  return withStore(path, async (store) => {
    const { size, checkpoint } = store.head();
    if (!checkpoint || index >= checkpoint.size) {
      throw new Error(`entry ${index} is not covered by a checkpoint (latest covers ${checkpoint?.size ?? 0} of ${size} entries)`);
    }
    const reader = new TreeReader(storeLookup(store));
    const proof = await reader.inclusionProof(index, checkpoint.size);
    return formatProofFile({ index, proof, checkpoint: checkpoint.note, extra: (await store.entry(index))! });
  });
}

const isPostgres = (source: string) => /^postgres(ql)?:\/\//.test(source);

interface LedgerSource {
  /** The SQLite file to read. */
  file: string;
  /** How to name the source in messages (never the connection string, which may hold a password). */
  label: string;
  exported?: ExportReport;
}

/** A SQLite file as is; a PostgreSQL ledger exported (one consistent snapshot) into a temporary SQLite file. */
async function withLedgerFile<T>(source: string, schema: string, use: (ledger: LedgerSource) => Promise<T>): Promise<T> {
  if (!isPostgres(source)) return use({ file: source, label: source });
  const dir = mkdtempSync(join(tmpdir(), 'ledger-export-'));
  try {
    const file = join(dir, 'ledger.db');
    const exported = await exportPostgresLedger({ url: source, schema }, file);
    return await use({ file, label: `postgres schema ${schema}`, exported });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describeExport({ entries, pending }: ExportReport): string {
  return `  snapshot     ${entries} integrated entries${pending > 0 ? ` (${pending} more sequenced, not integrated yet)` : ''}`;
}

async function writeAll(out: Writable, lines: AsyncIterable<string>): Promise<void> {
  for await (const line of lines) {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
}

function printKeyPair({ skey, vkey }: { skey: string; vkey: string }, json: boolean | undefined, role: string): void {
  if (json) return print(JSON.stringify({ skey, vkey }));
  print(`# verifier key (public: ${role})`);
  print(vkey);
  print('# signing key (SECRET: keep it where only this service reads it)');
  print(skey);
}

/** `origin=vkey`, or just a vkey whose name is the origin (as log keys usually are named); the vkey may be a file of them. */
function parseWitnessedLog(text: string): { origin: string; vkeys: string[] } {
  const eq = text.indexOf('=');
  const plus = text.indexOf('+');
  const [origin, vkey] = eq > 0 && (plus < 0 || eq < plus) ? [text.slice(0, eq), text.slice(eq + 1)] : [undefined, text];
  const vkeys = readVkeys([vkey], '--log');
  return { origin: origin ?? parseVerifierKey(vkeys[0]!).name, vkeys };
}

/**
 * The witness's signing key from its file; with `generate` (the witness name) a missing file is created first, mode
 * 0600, so a witness can be started with nothing prepared. An existing key is never replaced: the logs trust it.
 */
function witnessSigningKey(file: string, generate: string | undefined): string {
  if (generate !== undefined && !existsSync(file)) {
    const { skey, vkey } = generateCosignerKey(generate);
    writeFileSync(file, `${skey}\n`, { mode: 0o600, flag: 'wx' });
    print(`generated witness key ${file} (verifier key ${vkey})`);
  }
  const signingKey = readFileSync(file, 'utf8').trim().split('\n').find((line) => line.startsWith('PRIVATE+KEY+'));
  if (!signingKey) throw new Error(`${file} holds no PRIVATE+KEY+ line`);
  const name = signingKey.split('+')[2];
  if (generate !== undefined && name !== generate) throw new Error(`${file} holds the key of witness ${name}, not ${generate}`);
  return signingKey;
}

function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!match || Number(match[3]) > 65535) throw new Error(`--listen must be host:port, got ${JSON.stringify(text)}`);
  return { host: match[1] ?? match[2]!, port: Number(match[3]) };
}

/** `witness keygen` and `witness serve`: a C2SP tlog-witness; the gatekeeper CLI mounts it as `gatekeeper witness`. */
export function witnessCommand(): Command {
  const witness = new Command('witness').description('C2SP tlog-witness: cosign checkpoints of logs you watch, refusing inconsistent ones');
  witness
    .command('keygen')
    .description('generate a witness (cosigner, type 0x04) key pair')
    .argument('<name>', 'witness name, e.g. witness.example.com/w1')
    .option('--json', 'print {"skey","vkey"} as JSON')
    .action((name: string, options: { json?: boolean }) => printKeyPair(generateCosignerKey(name), options.json, 'give to the logs and clients that trust this witness'));
  witness
    .command('serve')
    .description('serve POST <prefix>/add-checkpoint')
    .requiredOption('--key-file <file>', 'file holding the witness signing key (from witness keygen)')
    .option('--generate-key <name>', 'create --key-file with a new key for witness <name> if it does not exist')
    .requiredOption('--log <origin=vkey>', 'a log to witness: origin=vkey, or the vkey (or a file of vkeys) when its name is the origin (repeatable)', collect)
    .requiredOption('--state <file>', 'JSON file keeping the latest cosigned checkpoint per log')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:7380')
    .option('--prefix <path>', 'submission prefix', '')
    .action(async (options: { keyFile: string; generateKey?: string; log: string[]; state: string; listen: string; prefix: string }) => {
      const signingKey = witnessSigningKey(options.keyFile, options.generateKey);
      const { host, port } = parseListen(options.listen);
      const { server, witness: w, url } = await serveWitness({ signingKey, logs: options.log.map(parseWitnessedLog), statePath: options.state, host, port, prefix: options.prefix });
      print(`witness ${w.name} listening on ${url}/add-checkpoint`);
      print(`  vkey ${w.vkey}`);
      const stop = () => server.close(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  return witness;
}

/** The `ledger` command tree; the gatekeeper CLI mounts it as `gatekeeper ledger ...`. */
export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('decision ledger: verify, prove and export a tamper-evident log');

  ledger
    .command('verify')
    .description('recompute every hash, check every checkpoint signature and their consistency')
    .argument('<db>', 'ledger SQLite file, or a postgres:// URL (verified from an exported snapshot)')
    .option('--vkey <vkey|file>', 'trusted verifier key, or a file of them such as ledger.vkey (repeatable); default: the keys recorded in the database', collect)
    .option('--checkpoint <file>', 'a signed checkpoint saved earlier: the ledger must be a consistent extension of it (detects truncation and rewrites)')
    .option('--schema <schema>', 'PostgreSQL schema of the ledger', 'ledger')
    .option('--json', 'print the report as JSON')
    .action(async (db: string, options: { vkey?: string[]; checkpoint?: string; schema: string; json?: boolean }) => {
      const vkeys = options.vkey ? readVkeys(options.vkey) : undefined;
      const checkpoint = options.checkpoint === undefined ? undefined : readFileSync(options.checkpoint, 'utf8');
      await withLedgerFile(db, options.schema, async ({ file, label, exported }) => {
        const report = await verifyLedgerFile(file, { ...(vkeys ? { vkeys } : {}), ...(checkpoint !== undefined ? { checkpoint } : {}) });
        if (options.json) print(JSON.stringify(exported ? { ...report, exported } : report));
        else {
          printReport(label, report, options.checkpoint);
          if (exported) print(describeExport(exported));
        }
        if (!report.ok) process.exitCode = 1;
      });
    });

  ledger
    .command('proof')
    .description('write a C2SP tlog-proof for one entry (against the latest checkpoint)')
    .argument('<db>', 'ledger SQLite file, or a postgres:// URL')
    .argument('<index>', 'entry index')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--schema <schema>', 'PostgreSQL schema of the ledger', 'ledger')
    .action(async (db: string, indexText: string, options: { out?: string; schema: string }) => {
      const index = parseIndex(indexText);
      const proof = await withLedgerFile(db, options.schema, ({ file }) => proofFromDatabase(file, index));
      if (options.out) writeFileSync(options.out, proof);
      else process.stdout.write(proof);
    });

  ledger
    .command('verify-proof')
    .description('check a tlog-proof file offline against trusted keys')
    .argument('<file>', 'tlog-proof file')
    .requiredOption('--vkey <vkey|file>', 'trusted log or witness verifier key, or a file of them (repeatable)', collect)
    .option('--entry <file>', 'the entry bytes, if the proof does not carry them')
    .option('--origin <origin>', 'require this log origin')
    .action((file: string, options: { vkey: string[]; entry?: string; origin?: string }) => {
      const result = verifyProofFile(readFileSync(file, 'utf8'), readVkeys(options.vkey), {
        ...(options.entry ? { entry: readFileSync(options.entry) } : {}),
        ...(options.origin ? { origin: options.origin } : {}),
      });
      print(`OK: entry ${result.index} is in ${result.origin} at size ${result.size}, signed by ${result.signers.join(', ')}`);
      try {
        print(JSON.stringify(decodeRecord(result.entry)));
      } catch {
        print(`entry (not a ledger record): ${toHex(result.entry)}`);
      }
    });

  ledger
    .command('export')
    .description('export entries as JSON Lines {"index","leaf_hash","record"}, or a PostgreSQL ledger as a SQLite ledger file')
    .argument('<db>', 'ledger SQLite file, or a postgres:// URL')
    .option('-o, --out <file>', 'write JSON Lines to a file instead of stdout')
    .option('--sqlite <file>', 'write a PostgreSQL ledger to this new SQLite file (the format verify and proof read)')
    .option('--schema <schema>', 'PostgreSQL schema of the ledger', 'ledger')
    .action(async (db: string, options: { out?: string; sqlite?: string; schema: string }) => {
      if (options.sqlite) {
        if (!isPostgres(db)) throw new Error(`${db} is a SQLite ledger already; --sqlite exports a postgres:// ledger`);
        const exported = await exportPostgresLedger({ url: db, schema: options.schema }, options.sqlite);
        print(`exported postgres schema ${options.schema} to ${options.sqlite}: ${exported.entries} entries, ${exported.checkpoints} checkpoints, ${exported.payloads} payloads`);
        if (exported.pending > 0) print(`  ${exported.pending} entries sequenced after the snapshot are not integrated yet and were left out`);
        return;
      }
      const out = options.out ? createWriteStream(options.out) : process.stdout;
      await withLedgerFile(db, options.schema, ({ file }) =>
        withStore(file, async (store) => {
          const limit = store.head().size;
          async function* lines(): AsyncIterable<string> {
            for await (const e of store.entries(limit)) yield JSON.stringify({ index: e.index, leaf_hash: toHex(e.leafHash), record: decodeRecord(e.entry) });
          }
          await writeAll(out, lines());
        }),
      );
      if (options.out) {
        out.end();
        await once(out, 'finish');
      }
    });

  ledger
    .command('keygen')
    .description('generate an Ed25519 checkpoint signing key (C2SP signed-note)')
    .argument('<name>', 'key name, e.g. gatekeeper.example.com/ledger')
    .option('--json', 'print {"skey","vkey"} as JSON')
    .action((name: string, options: { json?: boolean }) => printKeyPair(generateKey(name), options.json, 'give to auditors and witnesses, pass to verify --vkey'));

  ledger.addCommand(witnessCommand());
  return ledger;
}
