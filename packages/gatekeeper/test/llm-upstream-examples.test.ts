/**
 * The upstream examples in examples/upstreams/ (shown in the gatekeeper README), each run against a local fake of
 * the service it configures, with the vendor's own SDK on the agent's side: Azure OpenAI (the fake checks the
 * api-key header, the deployment path and the api-version), a vLLM-style OpenAI-compatible server (bearer key,
 * model names with slashes, its /v1/models list), fallbacks from Azure to OpenAI, and Anthropic.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { AzureOpenAI } from 'openai';
import { parse } from 'yaml';
import type { OagfInput } from '../src/spec/index.js';
import { AGENT_KEY, startGatekeeper, type TestGatekeeper } from './support/openai-gatekeeper.js';
import { FakeAzure } from './support/fake-azure.js';
import { AnthropicUpstream, message } from './support/scripted-anthropic.js';
import { ScriptedUpstream, chatChunks, chatCompletion } from './support/scripted-upstream.js';

type Json = Record<string, unknown>;

const EXAMPLES = fileURLToPath(new URL('../../../examples/upstreams/', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The example's `llm:` section with each upstream's base URL pointed at a local fake (by upstream name). */
function example(file: string, baseUrls: Record<string, string>): Json {
  const llm = (parse(readFileSync(`${EXAMPLES}${file}`, 'utf8')) as { llm: { upstreams: Json[] } }).llm;
  for (const u of llm.upstreams) {
    const local = baseUrls[u.name as string];
    assert.ok(local, `a fake for upstream ${String(u.name)}`);
    u.base_url = local;
  }
  return llm as unknown as Json;
}

const started: { stop(): Promise<void> }[] = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});
async function fake<T extends ScriptedUpstream>(u: T): Promise<[T, string]> {
  const url = await u.start();
  started.push(u);
  return [u, url];
}
async function gatekeeper(opts: Parameters<typeof startGatekeeper>[0]): Promise<TestGatekeeper> {
  const gk = await startGatekeeper(opts);
  started.push(gk);
  return gk;
}

test('the README shows each example as it is in examples/upstreams/', () => {
  const readme = readFileSync(README, 'utf8');
  for (const file of ['azure-openai.yaml', 'vllm.yaml', 'fallbacks.yaml', 'anthropic.yaml']) {
    const text = readFileSync(`${EXAMPLES}${file}`, 'utf8');
    assert.ok(readme.includes(`\`\`\`yaml\n# examples/upstreams/${file}\n${text}\`\`\``), `README.md shows examples/upstreams/${file} verbatim`);
  }
});

test('the sample deploy/gatekeeper.yaml is a valid configuration with its LLM upstreams', async () => {
  const { loadConfigFile } = await import('../src/config/load.js');
  const { config } = loadConfigFile(fileURLToPath(new URL('../../../deploy/gatekeeper.yaml', import.meta.url)));
  assert.deepEqual(config.llm!.upstreams.map((u) => `${u.name}:${u.flavor}`), ['openai:openai', 'vllm:openai', 'claude:anthropic']);
  assert.equal(config.llm!.retry.retries, 2);
});

describe('Azure OpenAI', () => {
  const AZURE_KEY = 'azure-resource-key-0123456789';

  test('the deployment path, the api-key header and the api-version reach Azure; any OpenAI client works', async () => {
    const [azure, url] = await fake(new FakeAzure(AZURE_KEY, ['gpt-4o-prod', 'gpt-4o-mini-prod']));
    const gk = await gatekeeper({ upstreamUrl: url, llm: example('azure-openai.yaml', { 'azure-east': url }), env: { AZURE_OPENAI_API_KEY: AZURE_KEY } });
    azure.enqueue({ json: chatCompletion({ content: 'from azure' }) }, { json: chatCompletion({ content: 'from azure again' }) });

    const azureClient = new AzureOpenAI({ endpoint: gk.url, apiKey: AGENT_KEY, apiVersion: '2024-10-21', deployment: 'gpt-4o-prod', maxRetries: 0 });
    const a = await azureClient.chat.completions.create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(a.choices[0]!.message.content, 'from azure');
    const openaiClient = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
    const b = await openaiClient.chat.completions.create({ model: 'gpt-4o-mini-prod', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(b.choices[0]!.message.content, 'from azure again');

    assert.deepEqual(azure.received.map((r) => r.url), ['/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21', '/openai/deployments/gpt-4o-mini-prod/chat/completions?api-version=2024-10-21']);
    assert.ok(azure.received.every((r) => r.headers['api-key'] === AZURE_KEY && r.headers.authorization === undefined));
    await assert.rejects(openaiClient.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }), /404 model "gpt-5" is not routed/);
  });

  test('the fake holds the gatekeeper to Azure: a wrong api-version or key is refused by Azure and passed on scrubbed', async () => {
    const [, url] = await fake(new FakeAzure(AZURE_KEY, ['gpt-4o-prod']));
    const wrongVersion = example('azure-openai.yaml', { 'azure-east': url });
    ((wrongVersion.upstreams as Json[])[0]!).api_version = '2019-01-01';
    const gk = await gatekeeper({ upstreamUrl: url, llm: wrongVersion, env: { AZURE_OPENAI_API_KEY: AZURE_KEY } });
    const client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'hi' }] }), /: 400 API version not supported: 2019-01-01$/);
    const gk2 = await gatekeeper({ upstreamUrl: url, llm: example('azure-openai.yaml', { 'azure-east': url }), env: { AZURE_OPENAI_API_KEY: 'not-the-key' } });
    const client2 = new OpenAI({ baseURL: `${gk2.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
    await assert.rejects(client2.chat.completions.create({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'hi' }] }), /: 401 Access denied due to invalid subscription key/);
  });
});

describe('vLLM (OpenAI-compatible)', () => {
  test('bearer key, a model name with a slash, its models listed, a streamed tool call decided', async () => {
    const VLLM_KEY = 'vllm-token-abcdef123456';
    const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
    const vllm = new ScriptedUpstream();
    vllm.precheck = (r) => (r.headers.authorization === `Bearer ${VLLM_KEY}` ? undefined : { json: { error: 'Unauthorized' }, status: 401 });
    vllm.fallback = (r) => (r.url === '/v1/models' ? { json: { object: 'list', data: [{ id: MODEL, object: 'model', created: 1, owned_by: 'vllm', max_model_len: 8192 }] } } : { json: { error: 'unexpected' }, status: 500 });
    const [, url] = await fake(vllm);
    const policy = (input: OagfInput) => (input.action.target.tool === 'delete_records' ? { outcome: 'deny', reasons: ['deleting records needs a human'] } : { outcome: 'allow', reasons: [] });
    const gk = await gatekeeper({ upstreamUrl: url, llm: example('vllm.yaml', { vllm: `${url}/v1` }), env: { VLLM_API_KEY: VLLM_KEY }, policy });
    const client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });

    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    assert.deepEqual(models, [MODEL], "the gatekeeper lists the server's models");

    vllm.enqueue((req) => ({ sse: chatChunks(req, { model: MODEL, content: ['Cleaning up.'], toolCalls: [{ name: 'delete_records', arguments: '{"table":"orders"}' }] }) }));
    const stream = await client.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'clean up' }], tools: [{ type: 'function', function: { name: 'delete_records', parameters: { type: 'object' } } }] });
    let text = '';
    let calls = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      calls += chunk.choices[0]?.delta.tool_calls?.length ?? 0;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(calls, 0);
    assert.match(text, /^Cleaning up\.\n\nThe gatekeeper withheld the call to tool "delete_records": deleting records needs a human/);
    assert.equal(finish, 'stop');
    assert.equal(vllm.received.at(-1)!.body.model, MODEL);
  });
});

describe('fallbacks', () => {
  test('Azure failing, the call goes to OpenAI after the configured retries', async () => {
    const [azure, azureUrl] = await fake(new FakeAzure('az-key-123456789', ['gpt-4o']));
    const openai = new ScriptedUpstream();
    openai.precheck = (r) => (r.headers.authorization === 'Bearer sk-openai-key-123456' ? undefined : { json: { error: { message: 'bad key' } }, status: 401 });
    const [, openaiUrl] = await fake(openai);
    const overloaded = { json: { error: { code: '503', message: 'The service is temporarily unable to process your request.' } }, status: 503 };
    azure.enqueue(overloaded, overloaded, overloaded);
    openai.enqueue({ json: chatCompletion({ content: 'from openai' }) });
    const gk = await gatekeeper({
      upstreamUrl: azureUrl,
      llm: example('fallbacks.yaml', { 'azure-east': azureUrl, openai: `${openaiUrl}/v1` }),
      env: { AZURE_OPENAI_API_KEY: 'az-key-123456789', OPENAI_API_KEY: 'sk-openai-key-123456' },
    });
    const client = new OpenAI({ baseURL: `${gk.url}/v1`, apiKey: AGENT_KEY, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.choices[0]!.message.content, 'from openai');
    assert.equal(azure.received.length, 3, 'one try and two retries');
    assert.equal(openai.received[0]!.url, '/v1/chat/completions');
    assert.equal(gk.log.records.length, 1, 'decided once');
  });
});

describe('Anthropic', () => {
  test('the Anthropic SDK through the gatekeeper, x-api-key from the environment', async () => {
    const [claude, url] = await fake(new AnthropicUpstream('sk-ant-example-key-123456'));
    claude.enqueue({ json: message({ model: 'claude-sonnet-4-5', blocks: [{ text: 'hello from Claude' }] }) });
    const gk = await gatekeeper({ upstreamUrl: url, llm: example('anthropic.yaml', { claude: url }), env: { ANTHROPIC_API_KEY: 'sk-ant-example-key-123456' } });
    const client = new Anthropic({ baseURL: gk.url, apiKey: AGENT_KEY, maxRetries: 0 });
    const res = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(res.content, [{ type: 'text', text: 'hello from Claude' }]);
    assert.equal(claude.received[0]!.headers['x-api-key'], 'sk-ant-example-key-123456');
  });
});
