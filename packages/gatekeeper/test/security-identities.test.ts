/**
 * Issue 12, class 5: console accounts, agent owners, approver users and groups are canonical identities. An agent
 * asks (through the API proxy, asynchronous approval) to place an order; console accounts that are its owner — or
 * the owner of an agent that handed it the work — under another spelling (case, full-width letters, a ligature,
 * ß, an e-mail address and its local part, a +tag) try to approve it through the console's JSON API. Each case
 * checks the reviewer's answer, that the agent's retry is still refused, and that the business API received
 * nothing; a reviewer who is someone else approves, and the API receives the order exactly once. Configuration
 * that names identities ambiguously is refused at load, naming the setting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { hashApiKey } from '../src/auth/agents.js';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { GatekeeperConfig } from '../src/config/schema.js';
import { parseApprovalsConfig } from '../src/approvals/config.js';
import { approvalsModule } from '../src/approvals/module.js';
import { hashPassword } from '../src/approvals/accounts.js';
import { canonicalIdentity, maybeSamePerson } from '../src/identity.js';
import { buildServer, type Gatekeeper } from '../src/server.js';
import { MemoryLog, functionPolicy } from './support/openai-gatekeeper.js';
import type { OagfInput } from '../src/spec/index.js';

type Json = Record<string, unknown>;

/** Agents whose owners are spelt unlike the console account of the same person. */
const AGENTS: { id: string; owner: string; account: string; how: string; delegatedBy?: string }[] = [
  { id: 'a-email', owner: 'dana@acme.example', account: 'dana', how: 'a bare account name that is the owner’s e-mail local part' },
  { id: 'a-case', owner: 'RITA', account: 'rita', how: 'case' },
  { id: 'a-fullwidth', owner: 'ｆｉｏｎａ', account: 'fiona', how: 'full-width letters (NFKC)' },
  { id: 'a-ligature', owner: 'ﬂo@acme.example', account: 'flo@acme.example', how: 'a ligature (ﬂ)' },
  { id: 'a-mixedcase-email', owner: 'Sam@ACME.Example', account: 'sam@acme.example', how: 'mixed case in an e-mail address' },
  { id: 'a-plus', owner: 'omar+bots@acme.example', account: 'omar@acme.example', how: 'a +tag of the same mailbox' },
  { id: 'a-bare-owner', owner: 'lee', account: 'Lee@acme.example', how: 'a bare owner and an account’s e-mail local part' },
  { id: 'a-sharp-s', owner: 'Strauß', account: 'strauss', how: 'ß case-folded to ss' },
  { id: 'a-delegated', owner: 'priya@acme.example', account: 'kai', how: 'the owner of the delegating agent (KAI@acme.example)', delegatedBy: 'planner' },
];

const keyOf = (id: string) => `key-${id}`;

describe('class 5: four eyes and eligibility compare canonical identities', () => {
  let dir: string;
  let gk: Gatekeeper;
  let url: string;
  let erp: Server;
  const received: { url: string; body: string }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gk-identities-'));
    erp = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ url: req.url!, body });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"order":"ok"}');
      });
    });
    await new Promise<void>((r) => erp.listen(0, '127.0.0.1', r));
    const password_hash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const accounts = [...new Set(AGENTS.map((a) => a.account))].map((username) => ({ username, password_hash, roles: ['reviewer'] }));
    accounts.push({ username: 'zoe', password_hash, roles: ['reviewer'], groups: ['procurement-leads'] } as never);
    accounts.push({ username: 'yuki', password_hash, roles: ['reviewer'], groups: ['procurement-leads-emea'] } as never);
    const config = GatekeeperConfig.parse({
      listen: { host: '127.0.0.1', port: 0 },
      agents: [
        { id: 'planner', owner: 'KAI@acme.example', api_keys: [hashApiKey(keyOf('planner'))] },
        ...AGENTS.map((a) => ({ id: a.id, owner: a.owner, api_keys: [hashApiKey(keyOf(a.id))] })),
      ],
      apis: { erp: { base_url: `http://127.0.0.1:${(erp.address() as AddressInfo).port}` } },
      policy: { bundle: 'unused' },
      ledger: { path: 'unused', signing_key_file: 'unused' },
      approvals: { database: join(dir, 'approvals.db'), signing_key_file: join(dir, 'approval.pem'), modes: { api: 'async' }, accounts },
    });
    // Orders escalate, to the approvers the test names in the order itself.
    const policy = functionPolicy((input: OagfInput) => {
      const body = (input.action.body ?? {}) as Json;
      return { outcome: 'escalate', reasons: ['orders need a human'], ...(body.approvers ? { approvers: body.approvers } : {}) };
    });
    const log = new MemoryLog();
    gk = await buildServer({ config, file: join(dir, 'gatekeeper.yaml'), dir }, { log, policy, modules: [approvalsModule({ ledger: log })], logger: pino({ level: 'silent' }) });
    url = await gk.listen();
  });
  after(async () => {
    await gk.close();
    await new Promise<void>((r) => erp.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const order = (agent: string, body: Json, approval?: string, delegatedBy?: string) =>
    fetch(`${url}/apis/erp/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${keyOf(agent)}`,
        'content-type': 'application/json',
        ...(approval ? { 'oagf-approval': approval } : {}),
        ...(delegatedBy ? { 'oagf-delegated-by': delegatedBy } : {}),
      },
      body: JSON.stringify(body),
    });
  const decide = (id: string, login: string) =>
    fetch(`${url}/console/api/approvals/${id}/decision`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${login}:pw`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve', comment: '' }),
    });
  const requestApproval = async (agent: string, body: Json, delegatedBy?: string) => {
    const res = await order(agent, body, undefined, delegatedBy);
    assert.equal(res.status, 202);
    return ((await res.json()) as { error: { approval_id: string } }).error.approval_id;
  };
  /** The agent's retry is refused while nobody eligible approved, and the API received nothing. */
  const stillRefused = async (agent: string, body: Json, id: string, delegatedBy?: string) => {
    const before = received.length;
    const retry = await order(agent, body, id, delegatedBy);
    assert.equal(retry.status, 202, 'still pending');
    assert.equal(received.length, before, 'the business API received nothing');
  };

  for (const a of AGENTS) {
    const fullWidth = a.account.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const logins = [a.account, a.account.toUpperCase(), fullWidth];
    test(`four eyes: ${a.how} — "${a.owner}" vs console login ${logins.map((l) => `"${l}"`).join(', ')}`, async () => {
      const body = { sku: 'STEEL-9', total: 2_400_000, ref: a.id };
      const id = await requestApproval(a.id, body, a.delegatedBy);
      for (const login of logins) {
        const res = await decide(id, login);
        const err = ((await res.json()) as { error: { type: string; message: string } }).error;
        assert.equal(res.status, 403, `${login} must not approve`);
        assert.equal(err.type, 'self_approval');
        assert.match(err.message, /cannot approve its request \(four eyes\)/);
      }
      await stillRefused(a.id, body, id, a.delegatedBy);
      // Someone else approves: the order goes through, once.
      assert.equal((await decide(id, 'zoe')).status, 200);
      const before = received.length;
      assert.equal((await order(a.id, body, id, a.delegatedBy)).status, 201);
      assert.equal(received.length, before + 1);
      assert.deepEqual(JSON.parse(received.at(-1)!.body), body);
    });
  }

  const ELIGIBILITY: { name: string; approvers: Json; eligible: string[]; refused: string[] }[] = [
    { name: 'a named user in another case and full-width', approvers: { users: ['ＺＯＥ'] }, eligible: ['zoe'], refused: ['yuki', 'dana'] },
    { name: 'a group in another case', approvers: { groups: ['Procurement-LEADS'] }, eligible: ['zoe'], refused: ['yuki'] },
    { name: 'never by e-mail local part', approvers: { users: ['zoe@acme.example'] }, eligible: [], refused: ['zoe'] },
  ];
  for (const c of ELIGIBILITY) {
    test(`eligibility: ${c.name}`, async () => {
      const body = { sku: 'X', total: 1, approvers: { min: 1, ...c.approvers } };
      const id = await requestApproval('a-case', body);
      for (const login of c.refused) {
        const res = await decide(id, login);
        assert.equal(res.status, 403);
        assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'not_eligible');
      }
      await stillRefused('a-case', body, id);
      for (const login of c.eligible) assert.equal((await decide(id, login)).status, 200);
    });
  }
});

describe('class 5: configuration that names identities ambiguously is refused at load', () => {
  const base = { policy: { bundle: 'p' }, ledger: { path: 'l.db', signing_key_file: 'k' } };
  const yaml = (v: unknown) => JSON.stringify(v); // JSON is YAML
  const loadError = (config: unknown): string => {
    try {
      parseConfig(yaml({ ...base, ...(config as Json) }), 'gatekeeper.yaml');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail('the configuration was accepted');
  };
  const accountsError = (accounts: Json[]): string => {
    const hash = 'scrypt$1024$8$1$AAAA$AAAA';
    try {
      parseApprovalsConfig({ accounts: accounts.map((a) => ({ password_hash: hash, roles: ['reviewer'], ...a })) }, '.');
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('the accounts were accepted');
  };

  const OWNERS: [string, string[], RegExp][] = [
    ['an owner with a zero-width space', ['omar\u200b@acme.example'], /agents\.0\.owner: "omar\u200b@acme\.example" holds invisible characters/],
    ['an owner with a control character', ['dana\u0007'], /agents\.0\.owner: .* holds control characters/],
    ['an owner mixing Latin and Cyrillic letters', ['dаna@acme.example'], /agents\.0\.owner: .* mixes letters of several scripts \(Latin, Cyrillic\)/],
    ['one owner spelt two ways (case)', ['dana@acme.example', 'Dana@acme.example'], /agents\.1\.owner: "Dana@acme\.example" is agents\.0\.owner "dana@acme\.example" spelt another way/],
    ['one owner spelt two ways (full-width)', ['dana', 'ｄａｎａ'], /agents\.1\.owner: "ｄａｎａ" is agents\.0\.owner "dana" spelt another way/],
  ];
  for (const [name, owners, message] of OWNERS) {
    test(`agents: ${name}`, () => {
      const text = loadError({ agents: owners.map((owner, i) => ({ id: `a${i}`, owner })) });
      assert.match(text, message);
      assert.match(text, /gatekeeper\.yaml:\d+:\d+ agents\./, 'the message names the file position');
    });
  }

  test('agents: the same owner spelt the same way for several agents is fine', () => {
    parseConfig(yaml({ ...base, agents: [{ id: 'a', owner: 'dana@acme.example' }, { id: 'b', owner: 'dana@acme.example' }] }));
  });

  const ACCOUNTS: [string, Json[], RegExp][] = [
    ['duplicate usernames in another case', [{ username: 'dana' }, { username: 'DANA' }], /approvals\.accounts\.1\.username: "DANA" is the same identity as approvals\.accounts\.0\.username "dana"/],
    ['duplicate usernames in full-width letters', [{ username: 'dana' }, { username: 'ｄａｎａ' }], /approvals\.accounts\.1\.username: "ｄａｎａ" is the same identity/],
    ['a bare name and an e-mail address with that local part', [{ username: 'dana' }, { username: 'Dana@acme.example' }], /approvals\.accounts\.1\.username: .* are ambiguous/],
    ['two addresses of one mailbox', [{ username: 'dana@acme.example' }, { username: 'dana+review@acme.example' }], /approvals\.accounts\.1\.username: .* ambiguous/],
    ['a username mixing scripts', [{ username: 'dаna' }], /approvals\.accounts\.0\.username: .* mixes letters of several scripts/],
    ['a username with a zero-width joiner', [{ username: 'da\u200dna' }], /approvals\.accounts\.0\.username/],
    ['a group listed twice in another case', [{ username: 'zoe', groups: ['Ops', 'ops'] }], /approvals\.accounts\.0\.groups\.1: "ops" is the same identity as approvals\.accounts\.0\.groups\.0 "Ops"/],
  ];
  for (const [name, accounts, message] of ACCOUNTS) {
    test(`approvals.accounts: ${name}`, () => assert.match(accountsError(accounts), message));
  }

  test('canonical forms: the variants meet, different people do not', () => {
    assert.equal(canonicalIdentity('ＤＡＮＡ@ＡＣＭＥ.example'), 'dana@acme.example');
    assert.equal(canonicalIdentity('ﬁona'), 'fiona');
    assert.equal(canonicalIdentity('STRAUSS'), canonicalIdentity('strauß'));
    assert.equal(canonicalIdentity('da\u200bna'), 'dana');
    assert.ok(maybeSamePerson('dana', 'DANA@acme.example'));
    assert.ok(!maybeSamePerson('dana@acme.example', 'dana@evil.example'));
    assert.ok(!maybeSamePerson('dan', 'dana@acme.example'));
  });
});
