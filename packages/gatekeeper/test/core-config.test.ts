import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { resolveApis } from '../src/surfaces/apis/index.js';

const VALID = `listen: 127.0.0.1:8787
agents:
  - id: planner
    api_keys: ["sha256:${'a'.repeat(64)}"]
policy:
  bundle: ./policies
ledger:
  path: ./ledger.db
  signing_key_file: ./ledger.skey
`;

function problems(text: string) {
  try {
    parseConfig(text, 'gatekeeper.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('a valid file loads with defaults and paths resolved against its directory', () => {
  const { config } = parseConfig(VALID, '/etc/gatekeeper/gatekeeper.yaml');
  assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8787 });
  assert.deepEqual(config.policy.bundle, ['/etc/gatekeeper/policies']);
  assert.equal(config.ledger.path, '/etc/gatekeeper/ledger.db');
  assert.equal(config.policy.timeout_ms, 100);
});

test('ledger.durability defaults to fsync, accepts buffered and refuses anything else at its path', () => {
  assert.equal(parseConfig(VALID).config.ledger.durability, 'fsync');
  assert.equal(parseConfig(`${VALID}  durability: buffered\n`).config.ledger.durability, 'buffered');
  const err = problems(`${VALID}  durability: sometimes\n`);
  assert.equal(err.problems[0]!.path, 'ledger.durability');
  assert.match(err.message, /ledger\.durability: .*fsync.*buffered/);
});

test('a plain-text API key is refused with its line, column and path', () => {
  const err = problems(VALID.replace(`"sha256:${'a'.repeat(64)}"`, 'sk-live-123'));
  assert.equal(err.problems.length, 1);
  assert.deepEqual({ ...err.problems[0], message: undefined }, { path: 'agents.0.api_keys.0', line: 4, col: 16, message: undefined });
  assert.match(err.message, /gatekeeper\.yaml:4:16 agents\.0\.api_keys\.0: API keys are stored only as "sha256:<64 hex>"/);
});

test('a misspelt key is an error at that key', () => {
  const err = problems(VALID.replace('  bundle: ./policies', '  bundle: ./policies\n  wach: true'));
  assert.equal(err.problems[0]!.path, 'policy.wach');
  assert.equal(err.problems[0]!.line, 7);
  assert.match(err.problems[0]!.message, /Unrecognized key/);
});

test('a missing required section points at the document and names the path', () => {
  const err = problems(VALID.split('ledger:')[0]!);
  assert.equal(err.problems[0]!.path, 'ledger');
  assert.match(err.message, /ledger: required setting is missing/);
});

test('several problems are all reported', () => {
  const err = problems(VALID.replace('127.0.0.1:8787', 'everywhere').replace('./ledger.skey', '42\n  fsync: always'));
  const paths = err.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, ['ledger.fsync', 'ledger.signing_key_file', 'listen']);
  assert.equal(err.problems.find((p) => p.path === 'listen')!.line, 1);
});

test('YAML syntax errors give line and column', () => {
  const err = problems('listen: [unclosed\nagents: []\n');
  assert.ok(err.problems[0]!.line! >= 1);
  assert.match(err.problems[0]!.message, /^YAML:/);
});

test('API credentials come from the environment; a missing variable is a start-up error naming the setting', () => {
  const { config } = parseConfig(`${VALID}apis:\n  erp:\n    base_url: http://erp.local/api\n    headers:\n      authorization: { env: ERP_TOKEN, prefix: "Bearer " }\n`);
  assert.throws(() => resolveApis(config.apis, {}), /apis\.erp\.headers\.authorization: environment variable ERP_TOKEN is not set/);
  const apis = resolveApis(config.apis, { ERP_TOKEN: 't0k' });
  const erp = apis.get('erp')!;
  assert.equal(erp.upstream.origin, 'http://erp.local');
  assert.equal(erp.upstream.basePath, '/api');
  assert.ok(erp.forwardHeaders.has('content-type') && !erp.forwardHeaders.has('authorization'), 'agent credentials are never forwarded');
  assert.throws(
    () => resolveApis(parseConfig(`${VALID}apis:\n  erp:\n    base_url: http://erp.local/api\n    forward_headers: [accept, X-Forwarded-Host]\n`).config.apis, {}),
    /apis\.erp\.forward_headers: header "x-forwarded-host" is never taken from the agent/,
  );
});

test('storage.postgres: url from a string or {env}, a schema name, pool defaults; bad values named at their path', () => {
  const pg = (body: string) => `${VALID.replace('  path: ./ledger.db\n', '')}storage:\n  postgres:\n${body}`;
  const { config } = parseConfig(pg('    url: {env: DATABASE_URL}\n    schema: gatekeeper\n'));
  assert.deepEqual(config.storage.postgres, {
    url: { env: 'DATABASE_URL', prefix: '' },
    schema: 'gatekeeper',
    pool: { max: 10, ledger_max: 4, connect_timeout_ms: 5000 },
  });
  assert.equal(config.ledger.path, undefined, 'the ledger lives in PostgreSQL: no file needed');
  const url = problems(pg('    url: mysql://db/x\n    schema: gatekeeper\n'));
  assert.equal(url.problems[0]!.path, 'storage.postgres.url');
  const schema = problems(pg('    url: postgres://db/x\n    schema: Gate-Keeper\n'));
  assert.equal(schema.problems[0]!.path, 'storage.postgres.schema');
  assert.match(schema.message, /lowercase PostgreSQL identifier/);
  const noLedger = problems(VALID.replace('  path: ./ledger.db\n', ''));
  assert.equal(noLedger.problems[0]!.path, 'ledger.path');
  assert.match(noLedger.message, /or configure storage\.postgres/);
});
