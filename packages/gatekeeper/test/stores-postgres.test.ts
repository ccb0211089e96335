/**
 * The store contracts (test/stores/*.contract.ts) against the PostgreSQL drivers, each test on its own schema;
 * plus what only a shared database has: migrations, replicas racing one budget, notices across connections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PostgresStorage } from '../src/stores/postgres/storage.js';
import { GATEKEEPER_SCHEMA_VERSION } from '../src/stores/postgres/schema.js';
import { ApprovalService } from '../src/approvals/service.js';
import { ApprovalSigner } from '../src/approvals/signing.js';
import { Redactor } from '../src/redact.js';
import { RESYNC, type Notice } from '../src/stores/notifier.js';
import { MemoryLedger } from './approvals-fixtures.js';
import { approval, approvalStoreContract } from './stores/approvals.contract.js';
import { budgetStoreContract } from './stores/budgets.contract.js';
import { notifierContract } from './stores/notifier.contract.js';
import { sessionHistoryContract } from './stores/session-history.contract.js';
import { sessionStoreContract } from './stores/sessions.contract.js';
import { freshSchema, freshStorage, pgQuery, postgresConfig, postgresUnavailable } from './support/postgres.js';

const skip = await postgresUnavailable();
if (skip) {
  it('PostgreSQL store drivers', { skip }, () => {});
} else {
  budgetStoreContract('postgres', async () => (await freshStorage()).budgets());
  approvalStoreContract('postgres', async () => (await freshStorage()).approvals());
  sessionStoreContract('postgres', async () => (await freshStorage()).sessions());
  sessionHistoryContract('postgres', async (limits) => (await freshStorage()).sessionHistory(limits));
  notifierContract(
    'postgres (LISTEN/NOTIFY, one connection per replica)',
    async (count) => {
      const storage = await freshStorage();
      return Promise.all(Array.from({ length: count }, () => storage.notifier()));
    },
    () => new Promise((r) => setTimeout(r, 150)),
  );

  describe('PostgreSQL storage', () => {
    it('creates its tables once, at the current version, and reopens an existing schema', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([PostgresStorage.open(postgresConfig(schema), {}), PostgresStorage.open(postgresConfig(schema), {})]);
      await Promise.all([a.close(), b.close()]);
      const rows = await pgQuery<{ version: number }>(`SELECT version FROM "${schema}".gatekeeper_schema_version`);
      assert.deepEqual(rows, [{ version: GATEKEEPER_SCHEMA_VERSION }]);
      await (await PostgresStorage.open(postgresConfig(schema), {})).close();
    });

    it('refuses to start on a schema a newer gatekeeper migrated, naming both versions', async () => {
      const schema = freshSchema();
      await (await PostgresStorage.open(postgresConfig(schema), {})).close();
      await pgQuery(`UPDATE "${schema}".gatekeeper_schema_version SET version = $1`, [GATEKEEPER_SCHEMA_VERSION + 1]);
      await assert.rejects(PostgresStorage.open(postgresConfig(schema), {}), (err: Error) => {
        assert.match(err.message, new RegExp(`storage.postgres: schema ${schema} is at gatekeeper schema version ${GATEKEEPER_SCHEMA_VERSION + 1}, newer than this gatekeeper supports \\(${GATEKEEPER_SCHEMA_VERSION}\\)`));
        return true;
      });
    });

    it('takes the URL from the environment and says which variable is missing', async () => {
      const config = { ...postgresConfig(freshSchema()), url: { env: 'GK_TEST_DATABASE_URL', prefix: '' } };
      await assert.rejects(PostgresStorage.open(config, {}), /storage\.postgres\.url: environment variable GK_TEST_DATABASE_URL is not set/);
      await (await PostgresStorage.open(config, { GK_TEST_DATABASE_URL: postgresConfig('x').url as string })).close();
    });

    it('an unreachable database fails the start within the connect timeout, naming storage.postgres', async () => {
      const config = { ...postgresConfig(freshSchema(), 'postgres://postgres@127.0.0.1:1/test'), pool: { max: 2, ledger_max: 2, connect_timeout_ms: 1000 } };
      await assert.rejects(PostgresStorage.open(config, {}), /^Error: storage\.postgres: .*ECONNREFUSED/);
    });

    it('budgets: four stores (as four replicas) racing 200 reservations on one counter — exactly 50 fit', async () => {
      const schema = freshSchema();
      const replicas = await Promise.all([0, 1, 2, 3].map(() => PostgresStorage.open(postgresConfig(schema), {})));
      const line = { budgetId: 'b', subject: 's', windowStart: 0, meter: 'action_amount' as const, cap: 50n * 7n, amount: 7n };
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => replicas[i % 4]!.budgets().reserve({ id: `r${i}`, lines: [line], now: 1, expiresAt: 1e9 })),
      );
      const won = results.flatMap((r, i) => (r.ok ? [i] : []));
      assert.equal(won.length, 50);
      await Promise.all(won.map((i) => replicas[(i + 1) % 4]!.budgets().settle(`r${i}`, { action_amount: BigInt(i % 7) }, 2)));
      const [c] = await replicas[0]!.budgets().counters([line]);
      assert.deepEqual([c!.reserved, c!.committed], [0n, won.reduce((s, i) => s + BigInt(i % 7), 0n)]);
      await Promise.all(replicas.map((r) => r.close()));
    });

    it('approvals: the expiry sweep runs on one replica at a time', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([PostgresStorage.open(postgresConfig(schema), {}), PostgresStorage.open(postgresConfig(schema), {})]);
      let release!: () => void;
      const held = a.approvals().exclusive(() => new Promise<string>((r) => (release = () => r('a swept'))));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await b.approvals().exclusive(async () => 'b swept'), undefined, 'b skips while a sweeps');
      release();
      assert.equal(await held, 'a swept');
      assert.equal(await b.approvals().exclusive(async () => 'b swept'), 'b swept', 'and sweeps once a is done');
      await Promise.all([a.close(), b.close()]);
    });

    it('approvals: work on one approval waits for work on the same approval on another replica, not for others', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([PostgresStorage.open(postgresConfig(schema), {}), PostgresStorage.open(postgresConfig(schema), {})]);
      const order: string[] = [];
      let release!: () => void;
      const first = a.approvals().locked('apr_1', async () => {
        order.push('a starts');
        await new Promise<void>((r) => (release = r));
        order.push('a ends');
      });
      await new Promise((r) => setTimeout(r, 100));
      const second = b.approvals().locked('apr_1', async () => order.push('b runs'));
      await b.approvals().locked('apr_2', async () => order.push('b on another approval'));
      await new Promise((r) => setTimeout(r, 100));
      release();
      await Promise.all([first, second]);
      assert.deepEqual(order, ['a starts', 'b on another approval', 'a ends', 'b runs']);
      await Promise.all([a.close(), b.close()]);
    });

    it('notifier: a listening connection that is cut reconnects and delivers again', async () => {
      const storage = await freshStorage();
      const [publisher, subscriber] = await Promise.all([storage.notifier(), storage.notifier()]);
      const seen: Notice[] = [];
      subscriber.subscribe('approvals', (n) => seen.push(n));
      const channel = `gatekeeper_${storage.schema}`;
      await pgQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${channel}"`]);
      const deadline = Date.now() + 5000;
      while (!seen.some((n) => n.id === 'after') && Date.now() < deadline) {
        await publisher.publish('approvals', { event: 'decided', id: 'after' });
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(seen.some((n) => n.id === 'after'), 'a notice published after the cut arrives');
      assert.ok(seen.some((n) => n.event === RESYNC), 'and subscribers were told to re-read what they may have missed');
      await Promise.all([publisher.close(), subscriber.close()]);
    });

    it('a held request whose verdict landed while its replica was not listening is released when it listens again', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([PostgresStorage.open(postgresConfig(schema), {}), PostgresStorage.open(postgresConfig(schema), {})]);
      const notifier = await a.notifier();
      const service = new ApprovalService({ store: a.approvals(), notifier, ledger: new MemoryLedger(), signer: ApprovalSigner.generate(), redactor: new Redactor([]), expiryMs: 60_000 });
      await a.approvals().insert(approval('apr_gap', { expiresAt: new Date(Date.now() + 60_000).toISOString() }));
      const started = Date.now();
      const waiting = service.wait('apr_gap', 30_000);
      await new Promise((r) => setTimeout(r, 100));
      await pgQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [`LISTEN "gatekeeper_${schema}"`]);
      // The verdict lands on the other replica while this one's listening connection is down: its notice is missed.
      assert.equal(await b.approvals().finalize('apr_gap', 'approved', new Date().toISOString(), { id: 'apr_gap.approved', index: 1 }), true);
      assert.equal((await waiting).status, 'approved');
      assert.ok(Date.now() - started < 10_000, `released ${Date.now() - started} ms after the wait began, not at its 30 s timeout`);
      await notifier.close();
      await Promise.all([a.close(), b.close()]);
    });
  });
}
