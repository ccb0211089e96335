/**
 * A supply planner written with the OpenAI Agents SDK (`@openai/agents`) whose model calls go through the
 * gatekeeper: only the OpenAI client's base URL and API key change. The gatekeeper decides the model call and every
 * tool call the model proposes before the agent sees it; a withheld call never reaches the tool, and the model is
 * told why instead.
 *
 *   export GATEKEEPER_URL=http://127.0.0.1:8787 GATEKEEPER_KEY=<the agent's gatekeeper key>
 *   npx tsx examples/agent-frameworks/openai-agents.ts "Restock STEEL-9"
 */
import { pathToFileURL } from 'node:url';
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';

export interface PlannerOptions {
  gatekeeperUrl: string;
  /** The agent's gatekeeper key (not an OpenAI key: the gatekeeper holds that). */
  apiKey: string;
  prompt: string;
  model?: string;
  /** The OpenAI API the SDK speaks: Responses (its default) or chat completions. */
  api?: 'responses' | 'chat_completions';
  stream?: boolean;
}

export interface PlannerRun {
  output: string;
  /** The tools that actually ran, with their main argument. */
  toolsRun: string[];
}

export async function runPlanner(o: PlannerOptions): Promise<PlannerRun> {
  const toolsRun: string[] = [];
  const tools = [
    tool({
      name: 'lookup_stock',
      description: 'Units of a SKU on hand',
      parameters: z.object({ sku: z.string() }),
      execute: async ({ sku }) => {
        toolsRun.push(`lookup_stock ${sku}`);
        return { sku, on_hand: 340 };
      },
    }),
    tool({
      name: 'place_order',
      description: 'Order units of a SKU from the usual supplier',
      parameters: z.object({ sku: z.string(), quantity: z.number(), total: z.number() }),
      execute: async ({ sku, quantity }) => {
        toolsRun.push(`place_order ${sku} x${quantity}`);
        return { ok: true };
      },
    }),
  ];
  // The one change an agent makes: the gatekeeper is its OpenAI endpoint.
  setDefaultOpenAIClient(new OpenAI({ baseURL: `${o.gatekeeperUrl}/v1`, apiKey: o.apiKey }));
  setOpenAIAPI(o.api ?? 'responses');
  // The SDK would export its traces to OpenAI's platform; the gatekeeper's ledger (and OpenTelemetry) keep the record.
  setTracingDisabled(true);
  const agent = new Agent({ name: 'planner', instructions: 'Plan supply: check stock before ordering.', model: o.model ?? 'gpt-4o-mini', tools });
  if (o.stream) {
    const streamed = await run(agent, o.prompt, { stream: true });
    for await (const _event of streamed);
    await streamed.completed;
    return { output: String(streamed.finalOutput), toolsRun };
  }
  const result = await run(agent, o.prompt);
  return { output: String(result.finalOutput), toolsRun };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apiKey = process.env.GATEKEEPER_KEY;
  if (!apiKey) throw new Error('set GATEKEEPER_KEY to the agent key the gatekeeper knows');
  const { output, toolsRun } = await runPlanner({
    gatekeeperUrl: process.env.GATEKEEPER_URL ?? 'http://127.0.0.1:8787',
    apiKey,
    prompt: process.argv[2] ?? 'Restock STEEL-9',
    ...(process.env.MODEL ? { model: process.env.MODEL } : {}),
  });
  console.log(`tools run: ${toolsRun.join(', ') || 'none'}`);
  console.log(output);
}
