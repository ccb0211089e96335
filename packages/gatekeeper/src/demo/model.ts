/**
 * A scripted OpenAI-compatible model server for the demo: `POST /v1/chat/completions` (JSON) and
 * `GET /v1/models`. Answers follow the keynote script, including `reasoning_content` as vLLM and others send it.
 */
import { randomUUID } from 'node:crypto';
import { readBody } from '../http/router.js';
import { listenLocal } from './local-server.js';
import { nextTurn, STORY } from './script.js';

export interface ScriptedModel {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function startScriptedModel(): Promise<ScriptedModel> {
  const state = { requests: 0 };
  const server = await listenLocal(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: [{ id: STORY.model, object: 'model', created: 0, owned_by: 'demo' }] }));
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
    }
    state.requests++;
    const body = JSON.parse((await readBody(req)).toString('utf8')) as { model: string; messages: never[] };
    const turn = nextTurn(body.messages);
    const id = `chatcmpl-${randomUUID()}`;
    const toolCalls = turn.toolCall
      ? [{ id: `call_${randomUUID().slice(0, 8)}`, type: 'function', function: { name: turn.toolCall.name, arguments: JSON.stringify(turn.toolCall.arguments) } }]
      : undefined;
    const message = { role: 'assistant', content: turn.content, ...(turn.reasoning ? { reasoning_content: turn.reasoning } : {}), ...(toolCalls ? { tool_calls: toolCalls } : {}) };
    const finish = toolCalls ? 'tool_calls' : 'stop';
    const usage = { prompt_tokens: 200, completion_tokens: 60, total_tokens: 260 };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model, choices: [{ index: 0, message, finish_reason: finish }], usage }));
  });
  return {
    url: `${server.url}/v1`,
    get requests() {
      return state.requests;
    },
    close: server.close,
  };
}
