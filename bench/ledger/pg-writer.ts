/**
 * One writer process of the PostgreSQL ledger bench: opens the shared ledger, says "ready", starts appending at
 * the given concurrency when it reads a line on stdin, and prints one JSON line with its own timing.
 */
import { once } from 'node:events';
import { openLedger, postgresDriver } from '@oagf/ledger';
import { appendConcurrently } from './records.js';

const [url, schema, skey, origin, name, countText, concurrencyText] = process.argv.slice(2) as string[];
const count = Number(countText);
const concurrency = Number(concurrencyText);
const ledger = await openLedger({ driver: postgresDriver({ url: url!, schema: schema!, poolSize: 4 }), origin: origin!, signingKey: skey!, checkpointEvery: { entries: 10_000, ms: 1000 } });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
const started = Date.now();
const { cpuUs } = await appendConcurrently(ledger, 0, count, concurrency, name);
const ended = Date.now();
await ledger.close();
process.stdout.write(`${JSON.stringify({ started, ended, count, cpuUs })}\n`);
