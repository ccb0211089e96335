/**
 * Three `gatekeeper serve` processes on one PostgreSQL schema, agents spread over them: one ledger that verifies,
 * checkpoints that are prefixes of one another whichever replica integrated; the integrating replica SIGKILLed
 * mid-burst ten times without losing an acknowledged decision; one budget exact across replicas; an approval held on
 * one replica released by a verdict given on another.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportPostgresLedger, openLedger, parseCheckpoint, postgresDriver, verifyConsistency, verifyLedgerFile, verifyNote } from '@oagf/ledger';
import { KEYS } from './core/fixture.js';
import { PG_URL, freshSchema, pgQuery, postgresUnavailable } from './support/postgres.js';
import { ORIGIN, REVIEWER, Replica, clusterConfig, pooled, waitFor, type Cluster } from './support/replicas.js';

const skip = await postgresUnavailable();

const order = (total: number) => ({ action: { kind: 'llm.tool_call', target: { tool: 'place_order' }, arguments: { sku: 'STEEL-7', total } } });

async function post(url: string, body: unknown, key: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

/** The ERP: orders marked `fail` get a 503; every request is counted by sku. */
async function startErp() {
  const received: { sku: string; fail: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const order = JSON.parse(body || '{}') as { sku?: string; fail?: boolean };
      received.push({ sku: order.sku ?? '', fail: !!order.fail });
      res.writeHead(order.fail ? 503 : 201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(order.fail ? { error: 'unavailable' } : { placed: order.sku }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * Exports the shared ledger to the file format `ledger verify` reads, verifies it, checks `notes` are prefixes of its
 * checkpoint, and returns where the records `ids` are in it.
 */
async function exportAndVerify(cluster: Cluster, name: string, notes: Iterable<string>, ids: string[]) {
  const file = join(cluster.dir, `${name}.db`);
  await exportPostgresLedger({ url: PG_URL, schema: cluster.schema }, file);
  const report = await verifyLedgerFile(file, { vkeys: [cluster.ledgerKey.vkey] });
  assert.equal(report.ok, true, JSON.stringify(report.problem));
  const exported = await openLedger({ path: file, origin: ORIGIN, signingKey: cluster.ledgerKey.skey, durability: 'buffered' });
  try {
    const final = parseCheckpoint(exported.latestCheckpoint()!);
    let prefixes = 0;
    for (const note of notes) {
      assert.deepEqual(verifyNote(note, [cluster.ledgerKey.vkey]), [ORIGIN]);
      const earlier = parseCheckpoint(note);
      assert.ok(earlier.size <= final.size, `checkpoint ${earlier.size} is beyond the final ${final.size}`);
      const proof = await exported.consistencyProof(earlier.size, final.size);
      assert.ok(verifyConsistency(earlier.size, final.size, earlier.root, final.root, proof), `checkpoint of size ${earlier.size} is a prefix of the final one`);
      prefixes++;
    }
    const indexOf = async (id: string) => (await exported.findById(id))?.index;
    return { report, final, prefixes, indexes: await Promise.all(ids.map(indexOf)) };
  } finally {
    await exported.close();
  }
}

/** A checkpoint covering everything sequenced, published by whichever replica integrates. */
async function finalCheckpoint(cluster: Cluster): Promise<string> {
  const reader = await openLedger({ driver: postgresDriver({ url: PG_URL, schema: cluster.schema, integrate: false }), origin: ORIGIN, signingKey: cluster.ledgerKey.skey });
  try {
    return await reader.checkpointNow();
  } finally {
    await reader.close();
  }
}

/** Reads every replica's published checkpoint (GET /ledger/checkpoint) until stopped. */
function watchCheckpoints(replicas: () => Replica[]) {
  const seen = new Map<string, Set<string>>();
  let watching = true;
  const running = (async () => {
    while (watching) {
      await Promise.all(
        replicas().map(async (r) => {
          const res = await fetch(`${r.url}/ledger/checkpoint`).catch(() => undefined);
          if (res?.status === 200) {
            const note = await res.text();
            if (!seen.has(note)) seen.set(note, new Set());
            seen.get(note)!.add(r.name);
          } else await res?.body?.cancel();
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    seen,
    stop: async () => {
      watching = false;
      await running;
    },
  };
}

describe('three gatekeeper replicas on one PostgreSQL schema', { skip }, () => {
  let erp: Awaited<ReturnType<typeof startErp>>;
  let cluster: Cluster;
  let replicas: Replica[];
  const schema = skip ? '' : freshSchema('gk_replicas');

  before(async () => {
    erp = await startErp();
    cluster = await clusterConfig(schema, erp.url, '5000.00');
    // Started together: they migrate the fresh schema once between them.
    replicas = ['a', 'b', 'c'].map((name) => new Replica(name, cluster));
    await Promise.all(replicas.map((r) => r.ready));
  });
  after(async () => {
    const exits = await Promise.all(replicas.map((r) => r.stop()));
    await erp.close();
    cluster.remove();
    assert.deepEqual(exits.map((e) => e.code), [0, 0, 0], 'each replica shut down cleanly');
  });

  test('600 decisions spread over them: one ledger of exactly those entries, verifying, checkpoints consistent', { timeout: 60_000 }, async (t) => {
    const watcher = watchCheckpoints(() => replicas);
    const started = performance.now();
    const answers = await pooled(600, 24, (i) => post(`${replicas[i % 3]!.url}/v1/decisions`, order(250_000 + i), KEYS.buyer));
    const elapsed = performance.now() - started;
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200], JSON.stringify(answers.find((a) => a.status !== 200)?.body));
    assert.deepEqual([...new Set(answers.map((a) => a.body.decision.outcome))], ['allow']);
    const final = await finalCheckpoint(cluster);
    await new Promise((r) => setTimeout(r, 200)); // let the watcher read the final checkpoint from the replicas too
    await watcher.stop();
    const stored = (await pgQuery<{ note: string }>(`SELECT note FROM "${cluster.schema}".checkpoints ORDER BY seq`)).map((r) => r.note);
    const acked = answers.map((a) => a.body.record_id as string);
    const checked = await exportAndVerify(cluster, 'six-hundred', [...stored, ...watcher.seen.keys(), final], acked);
    assert.equal(checked.report.entries, 600, 'exactly the 600 decisions');
    assert.equal(checked.final.size, 600);
    const ids = (await pgQuery<{ id: string }>(`SELECT id FROM "${cluster.schema}".entries`)).map((r) => r.id);
    assert.deepEqual(ids.sort(), [...acked].sort(), 'each acknowledged decision once, nothing else');
    assert.deepEqual(checked.indexes, answers.map((a) => a.body.index), 'each decision at its acknowledged index');
    // The operator's check, unchanged: `gatekeeper ledger verify` straight against the shared schema.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', 'src/cli.ts', 'ledger', 'verify', PG_URL, '--schema', schema, '--vkey', cluster.ledgerKey.vkey, '--json'], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual([JSON.parse(cli.stdout).ok, JSON.parse(cli.stdout).entries], [true, 600]);
    const servedBy = new Set([...watcher.seen.values()].flatMap((names) => [...names]));
    assert.deepEqual([...servedBy].sort(), ['a', 'b', 'c'], 'every replica serves the shared checkpoints');
    t.diagnostic(`600 decisions over 3 replicas in ${elapsed.toFixed(0)} ms; ${checked.prefixes} checkpoints checked as prefixes of the final one`);
  });

  test('budgets: failed upstream calls release their hold; then 200 concurrent orders over 3 replicas against a cap that fits exactly 50 → exactly 50 placed', { timeout: 60_000 }, async () => {
    const counter = async () =>
      (await pgQuery<{ committed: string; reserved: string }>(`SELECT committed, reserved FROM "${cluster.schema}".budget_counters WHERE budget_id = 'planner-orders'`))[0];
    const place = (i: number, fail = false) => post(`${replicas[i % 3]!.url}/apis/erp/orders`, { sku: `sku-${fail ? 'fail' : 'ok'}-${i}`, total: 100, ...(fail ? { fail } : {}) }, KEYS.planner);
    const failed = await Promise.all(Array.from({ length: 12 }, (_, i) => place(i, true)));
    assert.deepEqual([...new Set(failed.map((r) => r.status))], [503], JSON.stringify(failed[0]!.body));
    assert.equal(erp.received.filter((r) => r.fail).length, 12, 'each failing order reached the ERP');
    // The hold is released as the failed call's lifecycle closes, right after the agent got its answer.
    const released = await waitFor('the failed calls released', 5000, async () => {
      const c = await counter();
      return c?.reserved === '0' ? c : undefined;
    });
    assert.equal(released.committed, '0', 'nothing spent');

    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => place(i)));
    const placed = results.filter((r) => r.status === 201);
    assert.equal(placed.length, 50);
    assert.equal(erp.received.filter((r) => !r.fail).length, 50, 'exactly 50 orders carried out');
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 403);
      // Refused by the escrow, or (once the shared counter shows it full) already by the policy reading input.budgets.
      assert.match(r.body.error.message, /^(budget planner-orders \(day\) exceeded: cap 5000\.00 USD|day budget planner-orders would be exceeded)/);
    }
    const settled = await waitFor('the placed orders settled', 5000, async () => {
      const c = await counter();
      return c?.reserved === '0' ? c : undefined;
    });
    assert.equal(settled.committed, String(5000n * 1_000_000n), 'spent exactly the cap: 50 orders of 100.00');
  });

  test('approvals: held on A, approved on B → A carries it out within 1 s, once; rejected on C → 403 on A', { timeout: 60_000 }, async (t) => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const login = await fetch(`${b.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: REVIEWER.username, password: REVIEWER.password, next: '/console' }),
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const pending = () =>
      waitFor('a pending approval', 10_000, async () => {
        const res = await fetch(`${b.url}/console/api/approvals?status=pending`, { headers: { cookie } });
        const { approvals } = (await res.json()) as { approvals: { id: string }[] };
        return approvals[0]?.id;
      });
    const decide = (on: Replica, id: string, verdict: 'approve' | 'reject') =>
      fetch(`${on.url}/console/api/approvals/${id}/decision`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ verdict, comment: `${verdict} from ${on.name}` }) });

    const held = post(`${a.url}/apis/erp/orders`, { sku: 'held-1', total: 2_400_000 }, KEYS.buyer).then((r) => ({ ...r, at: performance.now() }));
    const id = await pending();
    const approved = await decide(b, id, 'approve');
    const approvedAt = performance.now();
    assert.equal(approved.status, 200);
    const done = await held;
    assert.equal(done.status, 201);
    assert.deepEqual(done.body, { placed: 'held-1' });
    assert.ok(done.at - approvedAt < 1000, `A released the held request ${(done.at - approvedAt).toFixed(0)} ms after B's verdict`);
    t.diagnostic(`held request on A answered ${(done.at - approvedAt).toFixed(0)} ms after B's verdict`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(erp.received.filter((r) => r.sku === 'held-1').length, 1, 'carried out exactly once');

    // The session signed in on B is honoured on C: sign-ins are shared.
    const heldAgain = post(`${a.url}/apis/erp/orders`, { sku: 'held-2', total: 2_400_000 }, KEYS.buyer);
    const second = await pending();
    assert.equal((await decide(c, second, 'reject')).status, 200);
    const refused = await heldAgain;
    assert.equal(refused.status, 403);
    assert.equal(erp.received.filter((r) => r.sku === 'held-2').length, 0, 'a rejected order is never carried out');

    // Approve on B and reject on C at the same moment: one verdict wins, and only it is in the ledger.
    const contested = post(`${a.url}/apis/erp/orders`, { sku: 'held-3', total: 2_400_000 }, KEYS.buyer);
    const third = await pending();
    const verdicts = await Promise.all([decide(b, third, 'approve'), decide(c, third, 'reject')]);
    assert.deepEqual(verdicts.map((v) => v.status).sort(), [200, 409], 'one verdict lands, the other finds it decided');
    const approvedWon = verdicts[0]!.status === 200;
    assert.equal((await contested).status, approvedWon ? 201 : 403);
    const recorded = await pgQuery<{ id: string }>(`SELECT id FROM "${schema}".entries WHERE id LIKE $1`, [`${third}.%`]);
    assert.deepEqual(recorded.map((r) => r.id), [`${third}.${approvedWon ? 'approved' : 'rejected'}`]);
    assert.equal(erp.received.filter((r) => r.sku === 'held-3').length, approvedWon ? 1 : 0);
  });

  test('console sign-in failures are counted across replicas: three wrong passwords, one on each, throttle the fourth anywhere', async () => {
    const signIn = (on: Replica) =>
      fetch(`${on.url}/console/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: REVIEWER.username, password: 'wrong', next: '/console' }),
      });
    // After the approvals test: its session stays valid, only new sign-ins of this account wait.
    const statuses = [];
    for (const r of replicas) statuses.push((await signIn(r)).status);
    assert.deepEqual(statuses, [401, 401, 401], 'each replica alone has seen one failure');
    const fourth = await signIn(replicas[0]!);
    assert.equal(fourth.status, 429);
    assert.ok(Number(fourth.headers.get('retry-after')) >= 1);
  });
});

describe('the integrating replica SIGKILLed mid-burst, ten times over', { skip }, () => {
  const schema = skip ? '' : freshSchema('gk_failover');
  const live: Replica[] = [];
  // A failed or timed-out run leaves no replica behind (a passing one has stopped them all already).
  after(() => live.forEach((r) => r.child.kill('SIGKILL')));

  test('every acknowledged decision is in the ledger, another replica took over each time, the ledger verifies, earlier checkpoints are prefixes', { timeout: 300_000 }, async (t) => {
    const ROUNDS = 10;
    const cluster = await clusterConfig(schema, 'http://127.0.0.1:9', '1.00');
    let spawned = 0;
    const start = () => {
      const r = new Replica(`r${spawned++}`, cluster);
      live.push(r);
      return r;
    };
    for (let i = 0; i < 3; i++) start();
    await Promise.all(live.map((r) => r.ready));

    // Agents keep deciding on whichever replicas are up; only a 200 is an acknowledgement.
    const acked = new Map<string, number>();
    let loading = true;
    let failed = 0;
    const agents = Array.from({ length: 3 }, async () => {
      while (loading) {
        const up = live.filter((r) => r.url);
        const replica = up[randomInt(up.length)]!;
        try {
          const r = await post(`${replica.url}/v1/decisions`, order(250_000), KEYS.buyer);
          if (r.status === 200) acked.set(r.body.record_id, r.body.index);
          else failed++;
        } catch {
          failed++; // the replica died under the request: not acknowledged
        }
      }
    });
    // Every checkpoint published on the way, as an outside observer reads them.
    const seen = new Set<string>();
    let observing = true;
    const observer = (async () => {
      while (observing) {
        for (const row of await pgQuery<{ note: string }>(`SELECT note FROM "${schema}".checkpoints`)) seen.add(row.note);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const integratorAmong = (what: string) =>
      waitFor(what, 20_000, async () => {
        for (const r of live.filter((x) => x.url)) if (await r.integrates()) return r;
        return undefined;
      });
    const takeovers: number[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // Another replica must be up to take over; the one started after the last kill may still be starting.
        await waitFor(`two replicas up (round ${round})`, 30_000, () => (live.filter((r) => r.url).length >= 2 ? true : undefined));
        const integrator = await integratorAmong(`an integrator (round ${round})`);
        const before = acked.size;
        await waitFor(`decisions in round ${round}`, 20_000, () => (acked.size > before + 20 ? true : undefined));
        await new Promise((r) => setTimeout(r, randomInt(0, 200)));
        integrator.child.kill('SIGKILL');
        const killedAt = performance.now();
        live.splice(live.indexOf(integrator), 1);
        await integrator.exited;
        const successor = await integratorAmong(`a takeover after killing ${integrator.name}`);
        takeovers.push(performance.now() - killedAt);
        assert.notEqual(successor, integrator);
        start();
      }
    } finally {
      loading = false;
      await Promise.all(agents);
    }
    await Promise.all(live.map((r) => r.ready));
    const final = await finalCheckpoint(cluster);
    observing = false;
    await observer;
    const exits = await Promise.all(live.map((r) => r.stop()));
    assert.deepEqual(exits.map((e) => e.code), live.map(() => 0), 'the survivors shut down cleanly');

    const ids = [...acked.keys()];
    const checked = await exportAndVerify(cluster, 'failover', [...seen, final], ids);
    assert.deepEqual(checked.indexes, [...acked.values()], 'every acknowledged decision at its acknowledged index');
    assert.ok(checked.report.entries >= acked.size);
    assert.equal(takeovers.length, ROUNDS);
    cluster.remove();
    const sorted = [...takeovers].sort((a, b) => a - b);
    t.diagnostic(
      `${acked.size} acknowledged decisions (${failed} requests cut by a kill), ${checked.report.entries} entries, ${checked.prefixes} checkpoints checked as prefixes; ` +
        `takeover after SIGKILL: median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms over ${ROUNDS} kills`,
    );
  });
});
