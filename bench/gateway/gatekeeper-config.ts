/**
 * The gatekeeper the gateway benches run: its configuration (the OAGF standard library, the SQLite ledger, one
 * agent, the local upstream) and the chat completion request every row sends.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashApiKey } from '../../packages/gatekeeper/src/auth/agents.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const AGENT_KEY = 'bench-agent-key';
export const UPSTREAM_KEY = 'bench-upstream-key';

/** The standard library's session rules, for the gatekeeper with session state on. */
export const SESSION_RULES = ['      labels: [{ tool: lookup_stock, labels: [untrusted] }]', '      egress: { tools: [http_post] }', '      destructive_tools: ["delete_*"]'];

/** Writes `dir`/gatekeeper.yaml (and its policy data) for a gatekeeper in front of the upstream on `upstreamPort`. */
export function writeGatekeeperConfig(dir: string, upstreamPort: number, durability: 'fsync' | 'buffered', sessions = false, extra: string[] = []): string {
  mkdirSync(join(dir, 'policy'), { recursive: true });
  writeFileSync(
    join(dir, 'policy', 'data.yaml'),
    ['config:', '  defaults:', '    models: [gpt-bench]', '    max_tokens: 8192', '  teams:', '    bench:', '      tools: [lookup_stock]', ...(sessions ? SESSION_RULES : []), ''].join('\n'),
  );
  const file = join(dir, 'gatekeeper.yaml');
  writeFileSync(
    file,
    [
      'listen: 127.0.0.1:0',
      'agents:',
      `  - { id: bench-agent, owner: bench@example.com, team: bench, api_keys: ["${hashApiKey(AGENT_KEY)}"] }`,
      'llm:',
      '  upstreams:',
      `    - { name: local, base_url: "http://127.0.0.1:${upstreamPort}/v1", api_key: { env: BENCH_UPSTREAM_KEY } }`,
      '  default: local',
      'policy:',
      `  bundle: ["${join(root, 'policies')}", ./policy]`,
      '  watch: false',
      'ledger:',
      '  path: ./ledger.db',
      '  signing_key_file: ./ledger.skey',
      '  origin: bench.local/ledger',
      `  durability: ${durability}`,
      'logging: { level: warn }',
      ...(sessions ? ['sessions: { store: { sqlite: ./sessions.db }, max_actions: 20 }'] : []),
      ...extra,
      '',
    ].join('\n'),
  );
  return file;
}

/** The chat completion every row sends: a system and a user message and one tool the model calls. */
export const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: 'gpt-bench',
    messages: [
      { role: 'system', content: 'You check stock levels.' },
      { role: 'user', content: 'How much STEEL-9 is in the north warehouse?' },
    ],
    tools: [{ type: 'function', function: { name: 'lookup_stock', parameters: { type: 'object', properties: { sku: { type: 'string' } } } } }],
    max_tokens: 256,
    ...(stream ? { stream: true } : {}),
  });
