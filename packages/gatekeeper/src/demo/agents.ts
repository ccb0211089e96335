/**
 * The multi-agent supply-chain planner, written the way agent developers write agents: the `openai` SDK pointed
 * at the gatekeeper by base URL, tools run by the agent's own code, business APIs reached through the
 * gatekeeper's API proxy. The planner hands the purchase to the buyer (OAGF-Delegated-By: planner).
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { BUYER_PROMPT, PLANNER_PROMPT, PLANNER_TASK, STORY } from './script.js';

export interface StoryEvents {
  step(agent: string, text: string): void;
}

export interface AgentSetup {
  gatekeeperUrl: string;
  plannerKey: string;
  buyerKey: string;
  events: StoryEvents;
}

export interface StoryResult {
  plannerAnswer: string;
  buyerAnswer: string;
  /** The ERP's answer to the order: status and body, as the buyer saw it. */
  order?: { status: number; body: Record<string, unknown> };
}

type ToolImpl = (args: Record<string, unknown>) => Promise<unknown>;

function tool(name: string, description: string, properties: Record<string, unknown>): ChatCompletionTool {
  return { type: 'function', function: { name, description, parameters: { type: 'object', properties, additionalProperties: false } } };
}

const str = { type: 'string' };
const num = { type: 'number' };

/** Runs an agent's tool loop until the model answers without a tool call. */
async function runAgent(client: OpenAI, name: string, system: string, task: string, tools: Record<string, ToolImpl>, defs: ChatCompletionTool[], events: StoryEvents) {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: system },
    { role: 'user', content: task },
  ];
  for (let turn = 0; turn < 8; turn++) {
    const res = await client.chat.completions.create({ model: STORY.model, messages, tools: defs });
    const message = res.choices[0]!.message;
    messages.push(message);
    const reasoning = (message as { reasoning_content?: string }).reasoning_content;
    if (reasoning) events.step(name, `thinks: ${reasoning}`);
    if (message.content) events.step(name, `says: ${message.content}`);
    const calls = message.tool_calls ?? [];
    if (!calls.length) return message.content ?? '';
    for (const call of calls) {
      if (call.type !== 'function') continue;
      events.step(name, `calls ${call.function.name}(${call.function.arguments})`);
      const impl = tools[call.function.name];
      const result = impl ? await impl(JSON.parse(call.function.arguments)) : { error: `unknown tool ${call.function.name}` };
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
    }
  }
  throw new Error(`${name} did not finish within 8 turns`);
}

export async function runStory(s: AgentSetup): Promise<StoryResult> {
  const result: Partial<StoryResult> = {};
  const headers = (key: string, delegatedBy?: string) => ({
    authorization: `Bearer ${key}`,
    'oagf-session': STORY.session,
    ...(delegatedBy ? { 'oagf-delegated-by': delegatedBy } : {}),
  });
  const client = (key: string, delegatedBy?: string) =>
    new OpenAI({ baseURL: `${s.gatekeeperUrl}/v1`, apiKey: key, defaultHeaders: headers(key, delegatedBy), maxRetries: 0, timeout: 15 * 60_000 });

  /**
   * Calls the ERP through the gatekeeper. An asynchronous approval (202) is waited for on its status URL — asking
   * how it stands is not a new action — and the call is sent again once, with the approval, when it is decided.
   */
  async function erp(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const send = async (approval?: string) => {
      const res = await fetch(`${s.gatekeeperUrl}/apis/erp${path}`, {
        method,
        headers: { ...headers(key, 'planner'), 'content-type': 'application/json', ...(approval ? { 'oagf-approval': approval } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { res, json: (await res.json()) as Record<string, unknown> };
    };
    const first = await send();
    if (first.res.status !== 202) return { status: first.res.status, body: first.json };
    const err = first.json.error as { approval_id: string; message?: string };
    s.events.step('buyer', `is told to wait: ${err.message} (approval ${err.approval_id})`);
    let wait = Number(first.res.headers.get('retry-after') ?? '2');
    for (;;) {
      await new Promise((r) => setTimeout(r, wait * 1000));
      const status = await fetch(new URL(first.res.headers.get('location')!, s.gatekeeperUrl), { headers: headers(key) });
      if (((await status.json()) as { status: string }).status !== 'pending') break;
      wait = Number(status.headers.get('retry-after') ?? wait);
    }
    const retry = await send(err.approval_id);
    return { status: retry.res.status, body: retry.json };
  }

  const buyerTools: Record<string, ToolImpl> = {
    async request_quote(args) {
      return { supplier: STORY.supplier, sku: args.sku, unit_price: STORY.unitPrice, currency: STORY.currency, lead_time_days: 12 };
    },
    async place_order(args) {
      const order = await erp(s.buyerKey, 'POST', '/orders', args);
      result.order = order;
      if (order.status === 201) return { po: order.body.po, status: 'placed' };
      const error = order.body.error as { message?: string } | undefined;
      return { status: 'refused', http_status: order.status, reason: error?.message ?? 'refused' };
    },
  };
  const plannerTools: Record<string, ToolImpl> = {
    async forecast_demand(args) {
      const stock = await erp(s.plannerKey, 'GET', `/inventory/${encodeURIComponent(String(args.sku))}`);
      return { sku: args.sku, quarter: args.quarter, forecast: STORY.forecast, on_hand: stock.body.on_hand ?? STORY.onHand };
    },
    async handoff_to_buyer(args) {
      s.events.step('planner', `hands the purchase to the buyer: ${String(args.reason)}`);
      const task = `From the planner: ${String(args.reason)}. Buy ${String(args.quantity)} × ${String(args.sku)}.`;
      result.buyerAnswer = await runAgent(client(s.buyerKey, 'planner'), 'buyer', BUYER_PROMPT, task, buyerTools, [
        tool('request_quote', 'Get a supplier quote', { sku: str, quantity: num }),
        tool('place_order', 'Place a purchase order in the ERP', { sku: str, quantity: num, supplier: str, unit_price: num, total: num, currency: str }),
      ], s.events);
      return { buyer: result.buyerAnswer };
    },
  };
  result.plannerAnswer = await runAgent(client(s.plannerKey), 'planner', PLANNER_PROMPT, PLANNER_TASK, plannerTools, [
    tool('forecast_demand', 'Forecast demand for a SKU in a quarter', { sku: str, quarter: str }),
    tool('handoff_to_buyer', 'Hand a purchase to the buyer agent', { sku: str, quantity: num, reason: str }),
  ], s.events);
  return result as StoryResult;
}
