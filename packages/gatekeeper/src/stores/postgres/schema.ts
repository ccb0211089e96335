/**
 * The gatekeeper's own tables in PostgreSQL (approvals, budgets, console sessions, session history) and their versioned migrations.
 * The ledger's tables share the schema and are migrated by @oagf/ledger; these are versioned apart (their own
 * version row) so either can move without the other. Replicas starting together migrate once (advisory lock), and
 * a schema newer than this code refuses to start: an older replica must not write into a layout it does not know.
 */
import type pg from 'pg';
import { quoteSchema } from '@oagf/ledger';

/** Each entry migrates from version index to index + 1; `{S}` stands for the quoted schema. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE {S}.approvals (
    id text PRIMARY KEY,
    status text NOT NULL,
    action_digest text NOT NULL,
    policy_digest text NOT NULL,
    agent_id text NOT NULL,
    agent_owner text,
    session_id text,
    surface text NOT NULL,
    summary text NOT NULL,
    amount text,
    -- JSON kept as text: exactly the bytes written, as SQLite keeps them (jsonb would reorder keys).
    input text NOT NULL,
    decision text NOT NULL,
    required text NOT NULL,
    escalation_id text NOT NULL,
    escalation_index bigint,
    trace text,
    -- ISO times, compared and sorted as plain strings (as SQLite does), whatever the database's collation.
    created_at text COLLATE "C" NOT NULL,
    expires_at text COLLATE "C" NOT NULL,
    decided_at text,
    consumed_at text,
    final_id text,
    final_index bigint
  );
  CREATE INDEX approvals_status ON {S}.approvals (status, expires_at);
  CREATE INDEX approvals_created ON {S}.approvals (created_at);
  CREATE TABLE {S}.approval_votes (
    approval_id text NOT NULL REFERENCES {S}.approvals (id),
    reviewer text NOT NULL,
    verdict text NOT NULL,
    comment text NOT NULL,
    time text COLLATE "C" NOT NULL,
    PRIMARY KEY (approval_id, reviewer)
  );
  CREATE TABLE {S}.approval_notices (
    approval_id text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    attempts int NOT NULL,
    last_error text,
    updated_at text NOT NULL,
    PRIMARY KEY (approval_id, channel)
  );

  CREATE TABLE {S}.console_sessions (
    token_hash text PRIMARY KEY,
    username text NOT NULL,
    expires_at bigint NOT NULL,
    reviewer text
  );
  CREATE INDEX console_sessions_expiry ON {S}.console_sessions (expires_at);
  CREATE TABLE {S}.console_login_failures (key text PRIMARY KEY, failures int NOT NULL, last_at bigint NOT NULL);

  CREATE TABLE {S}.budget_counters (
    budget_id text NOT NULL,
    subject text NOT NULL,
    window_start bigint NOT NULL,
    committed bigint NOT NULL DEFAULT 0,
    reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (budget_id, subject, window_start)
  );
  CREATE TABLE {S}.budget_reservations (
    id text PRIMARY KEY,
    state text NOT NULL CHECK (state IN ('open', 'settled', 'released', 'expired')),
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    closed_at bigint,
    reason text
  );
  CREATE INDEX budget_reservations_open ON {S}.budget_reservations (expires_at) WHERE state = 'open';
  CREATE TABLE {S}.budget_reservation_lines (
    reservation_id text NOT NULL REFERENCES {S}.budget_reservations (id),
    budget_id text NOT NULL,
    subject text NOT NULL,
    window_start bigint NOT NULL,
    meter text NOT NULL,
    amount bigint NOT NULL,
    charged bigint,
    PRIMARY KEY (reservation_id, budget_id, subject, window_start)
  );

  -- Budget steps run as one function call each: one statement, one transaction, no read-modify-write across a round
  -- trip. Counter rows are always locked in key order (and reservations before counters), so concurrent steps on any
  -- number of replicas queue on each other instead of deadlocking, and every check sees the latest committed totals.
  CREATE FUNCTION {S}.budget_reserve(p_id text, p_now bigint, p_expires bigint, p_budget text[], p_subject text[],
      p_window bigint[], p_meter text[], p_cap bigint[], p_amount bigint[])
    RETURNS TABLE (ord int, committed bigint, reserved bigint, ok boolean)
    LANGUAGE plpgsql AS $$
  DECLARE
    l record;
    c record;
  BEGIN
    INSERT INTO {S}.budget_counters AS t (budget_id, subject, window_start)
      SELECT DISTINCT u.b, u.s, u.w FROM unnest(p_budget, p_subject, p_window) AS u(b, s, w) ORDER BY 1, 2, 3
      ON CONFLICT DO NOTHING;
    PERFORM 1 FROM {S}.budget_counters t
      JOIN unnest(p_budget, p_subject, p_window) AS u(b, s, w) ON (t.budget_id, t.subject, t.window_start) = (u.b, u.s, u.w)
      ORDER BY t.budget_id, t.subject, t.window_start FOR UPDATE OF t;
    FOR l IN SELECT u.* FROM unnest(p_budget, p_subject, p_window, p_cap, p_amount) WITH ORDINALITY AS u(b, s, w, cap, amount, n) ORDER BY u.n LOOP
      SELECT t.committed, t.reserved INTO c FROM {S}.budget_counters t WHERE (t.budget_id, t.subject, t.window_start) = (l.b, l.s, l.w);
      IF c.committed + c.reserved + l.amount > l.cap THEN
        RETURN QUERY SELECT l.n::int, c.committed, c.reserved, false;
        RETURN;
      END IF;
    END LOOP;
    INSERT INTO {S}.budget_reservations (id, state, created_at, expires_at) VALUES (p_id, 'open', p_now, p_expires);
    INSERT INTO {S}.budget_reservation_lines (reservation_id, budget_id, subject, window_start, meter, amount)
      SELECT p_id, u.b, u.s, u.w, u.m, u.a FROM unnest(p_budget, p_subject, p_window, p_meter, p_amount) AS u(b, s, w, m, a);
    UPDATE {S}.budget_counters t SET reserved = t.reserved + x.amount
      FROM (SELECT u.b, u.s, u.w, sum(u.a)::bigint AS amount FROM unnest(p_budget, p_subject, p_window, p_amount) AS u(b, s, w, a) GROUP BY 1, 2, 3) x
      WHERE (t.budget_id, t.subject, t.window_start) = (x.b, x.s, x.w);
    RETURN QUERY SELECT u.n::int, t.committed, t.reserved, true
      FROM unnest(p_budget, p_subject, p_window) WITH ORDINALITY AS u(b, s, w, n)
      JOIN {S}.budget_counters t ON (t.budget_id, t.subject, t.window_start) = (u.b, u.s, u.w) ORDER BY u.n;
  END $$;

  -- Applies reservations' lines to their counters, in key order: drops the holds when p_unreserve (already gone once
  -- a reservation expired) and charges the actual amount per meter when p_charge (a meter not given: the amount held).
  CREATE FUNCTION {S}.budget_apply(p_ids text[], p_unreserve boolean, p_charge boolean, p_meters text[], p_actual bigint[])
    RETURNS bigint LANGUAGE plpgsql AS $$
  DECLARE
    total bigint;
  BEGIN
    PERFORM 1 FROM {S}.budget_counters t
      WHERE (t.budget_id, t.subject, t.window_start) IN
        (SELECT l.budget_id, l.subject, l.window_start FROM {S}.budget_reservation_lines l WHERE l.reservation_id = ANY (p_ids))
      ORDER BY t.budget_id, t.subject, t.window_start FOR UPDATE OF t;
    WITH x AS (
      SELECT l.reservation_id, l.budget_id, l.subject, l.window_start, l.amount AS held,
             CASE WHEN p_charge THEN coalesce((SELECT a.v FROM unnest(p_meters, p_actual) AS a(m, v) WHERE a.m = l.meter LIMIT 1), l.amount) ELSE 0 END AS charged
      FROM {S}.budget_reservation_lines l WHERE l.reservation_id = ANY (p_ids)),
    counters AS (
      UPDATE {S}.budget_counters t SET reserved = t.reserved - CASE WHEN p_unreserve THEN g.held ELSE 0 END, committed = t.committed + g.charged
      FROM (SELECT x.budget_id, x.subject, x.window_start, sum(x.held)::bigint AS held, sum(x.charged)::bigint AS charged FROM x GROUP BY 1, 2, 3) g
      WHERE (t.budget_id, t.subject, t.window_start) = (g.budget_id, g.subject, g.window_start)),
    lines AS (
      UPDATE {S}.budget_reservation_lines l SET charged = x.charged FROM x
      WHERE p_charge AND (l.reservation_id, l.budget_id, l.subject, l.window_start) = (x.reservation_id, x.budget_id, x.subject, x.window_start))
    SELECT coalesce(sum(x.charged), 0)::bigint INTO total FROM x;
    RETURN total;
  END $$;

  CREATE FUNCTION {S}.budget_close(p_id text, p_settle boolean, p_now bigint, p_reason text, p_meters text[], p_actual bigint[])
    RETURNS TABLE (status text, charged bigint, state text) LANGUAGE plpgsql AS $$
  DECLARE
    st text;
  BEGIN
    SELECT r.state INTO st FROM {S}.budget_reservations r WHERE r.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'not_open'::text, 0::bigint, 'unknown'::text;
    ELSIF st = 'open' THEN
      UPDATE {S}.budget_reservations r SET state = CASE WHEN p_settle THEN 'settled' ELSE 'released' END, closed_at = p_now, reason = p_reason WHERE r.id = p_id;
      RETURN QUERY SELECT CASE WHEN p_settle THEN 'settled' ELSE 'released' END, {S}.budget_apply(ARRAY[p_id], true, p_settle, p_meters, p_actual), st;
    ELSIF st = 'expired' AND p_settle THEN
      -- The hold already lapsed, but the upstream really was paid: record the spend.
      UPDATE {S}.budget_reservations r SET state = 'settled', closed_at = p_now, reason = 'settled after expiry' WHERE r.id = p_id;
      RETURN QUERY SELECT 'settled_after_expiry'::text, {S}.budget_apply(ARRAY[p_id], false, true, p_meters, p_actual), st;
    ELSE
      RETURN QUERY SELECT 'not_open'::text, 0::bigint, st;
    END IF;
  END $$;

  -- Overdue holds lapse; one being closed by another transaction right now is skipped (it is not open much longer).
  CREATE FUNCTION {S}.budget_expire(p_now bigint) RETURNS int LANGUAGE plpgsql AS $$
  DECLARE
    ids text[];
  BEGIN
    WITH gone AS (
      UPDATE {S}.budget_reservations r SET state = 'expired', closed_at = p_now, reason = 'expired'
      WHERE r.id IN (SELECT o.id FROM {S}.budget_reservations o WHERE o.state = 'open' AND o.expires_at <= p_now FOR UPDATE SKIP LOCKED)
      RETURNING r.id)
    SELECT coalesce(array_agg(id), '{}') INTO ids FROM gone;
    IF cardinality(ids) > 0 THEN PERFORM {S}.budget_apply(ids, true, false, '{}', '{}'); END IF;
    RETURN cardinality(ids);
  END $$;
  `,
  // 2: session history (session-aware policies). The sequence is one identity for every session, so appends on any
  // number of replicas never collide; a session's rows are one short key range (at most max_actions + a few).
  `
  CREATE TABLE {S}.session_entries (
    session text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    id text NOT NULL,
    time bigint NOT NULL,
    entry text NOT NULL,
    print bytea,
    PRIMARY KEY (session, seq)
  );
  `,
];

export const GATEKEEPER_SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaVersionError extends Error {}

/** Creates or migrates the gatekeeper's tables in `schema`, in one transaction under an advisory lock. */
export async function migrate(client: pg.ClientBase, schema: string): Promise<void> {
  const S = quoteSchema(schema);
  await client.query('BEGIN');
  try {
    // Same lock key as the ledger's migrations, so the two never interleave DDL in one schema.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 1)', [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${S}.gatekeeper_schema_version (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL)`);
    const found = await client.query<{ version: number }>(`SELECT version FROM ${S}.gatekeeper_schema_version`);
    const version = found.rows[0]?.version ?? 0;
    if (version > GATEKEEPER_SCHEMA_VERSION) {
      throw new SchemaVersionError(
        `storage.postgres: schema ${schema} is at gatekeeper schema version ${version}, newer than this gatekeeper supports (${GATEKEEPER_SCHEMA_VERSION}); run the newer gatekeeper, or use another schema`,
      );
    }
    for (let v = version; v < GATEKEEPER_SCHEMA_VERSION; v++) await client.query(MIGRATIONS[v]!.replaceAll('{S}', S));
    await client.query(
      `INSERT INTO ${S}.gatekeeper_schema_version VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
      [GATEKEEPER_SCHEMA_VERSION],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
