/**
 * Security class 7: secrets never persist. API keys, bearer tokens, JWTs, private keys, values under credential
 * keys and configured patterns in an agent's request are replaced in every ledger record and payload before the
 * append; the action digest still binds the exact action; what is carried out is unchanged.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { digestOf } from '../src/digest.js';
import { KEYS, post, startGatekeeper, startUpstream, type Fixture } from './core/fixture.js';

const OPENAI_KEY = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJidXllciIsImV4cCI6OTk5OTk5OTk5OX0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
const SECRETS = [OPENAI_KEY, JWT, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'hunter2', 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'AKIAABCDEFGHIJKLMNOP', 'xoxb-1234567890-abcdefghij', 'ACME-123456', 'tok-9f8e7d'];

describe('secrets are redacted before anything is persisted', () => {
  let fx: Fixture;
  let erp: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    erp = await startUpstream(() => ({ json: { ok: true } }));
    fx = await startGatekeeper({ config: { apis: { erp: { base_url: `${erp.url}/v2` } }, redact: { patterns: ['ACME-[0-9]{6}'] } } });
  });
  after(async () => {
    await fx.close();
    await erp.close();
  });

  async function ledgerText(): Promise<string> {
    const ledger = fx.gk.deps.ledger!;
    let text = '';
    for (let i = 0; i < ledger.size(); i++) {
      const record = (await ledger.getRecord(i))!;
      text += JSON.stringify(record);
      for (const digest of Object.values(record.payloads ?? {})) text += Buffer.from((await ledger.getPayload(digest))!).toString();
    }
    return text;
  }

  test('an API request carrying keys, tokens and passwords: forwarded as sent, persisted without them', async () => {
    const body = {
      note: `use ${OPENAI_KEY} and Bearer ${JWT}`,
      auth: { password: 'hunter2', api_key: 'tok-9f8e7d' },
      key: PEM,
      more: ['ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'AKIAABCDEFGHIJKLMNOP', 'xoxb-1234567890-abcdefghij', 'ref ACME-123456'],
    };
    const res = await fetch(`${fx.url}/apis/erp/inventory/lookup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.buyer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 403, 'POST /inventory/lookup is not an allowed route: denied, and still recorded');
    await fx.gk.deps.ledger!.checkpointNow();
    const text = (await ledgerText());
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} reached the ledger`);
    assert.match(text, /\[REDACTED\]/);
    const { record_id } = ((await res.json()) as { error: { record_id: string } }).error;
    const record = (await fx.gk.deps.ledger!.findById(record_id))!.record;
    assert.equal(record.data!.redactions, 8, "values replaced: the note (two secrets), password, api_key, the key and four more");
    const judged = { kind: 'http.request', target: { api: 'erp', method: 'POST', path: '/inventory/lookup' }, body };
    assert.equal(record.action_digest, digestOf(judged), 'the digest binds the exact action, not the redacted copy');
  });

  test('an allowed request is carried out with its bytes untouched; only the persisted copy is redacted', async () => {
    const bytes = JSON.stringify({ sku: 'STEEL-7', total: 10, currency: 'USD', memo: `token ${OPENAI_KEY}` });
    const res = await fetch(`${fx.url}/apis/erp/orders`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.buyer}`, 'content-type': 'application/json' }, body: bytes });
    assert.equal(res.status, 200);
    assert.equal(erp.received.at(-1)!.body, bytes);
    await fx.gk.deps.ledger!.checkpointNow();
    assert.ok(!(await ledgerText()).includes(OPENAI_KEY));
  });

  test('the decision API: arguments and the reasoning trace are redacted too', async () => {
    const r = await post(
      `${fx.url}/v1/decisions`,
      { action: { kind: 'llm.tool_call', target: { tool: 'check_inventory' }, arguments: { q: `Bearer ${JWT}` } }, trace: [{ role: 'user', content: `my key is ${OPENAI_KEY}` }] },
      KEYS.buyer,
    );
    assert.equal(r.status, 200);
    await fx.gk.deps.ledger!.checkpointNow();
    const text = (await ledgerText());
    assert.ok(!text.includes(JWT) && !text.includes(OPENAI_KEY));
  });

  test('the ledger file on disk holds none of the secrets', async () => {
    await fx.gk.deps.ledger!.checkpointNow();
    const file = readFileSync(`${fx.dir}/ledger.db`);
    const wal = (() => {
      try {
        return readFileSync(`${fx.dir}/ledger.db-wal`);
      } catch {
        return Buffer.alloc(0);
      }
    })();
    for (const secret of SECRETS) {
      assert.equal(file.includes(secret), false, `${secret} in ledger.db`);
      assert.equal(wal.includes(secret), false, `${secret} in ledger.db-wal`);
    }
  });
});
