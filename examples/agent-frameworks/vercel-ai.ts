/**
 * The same planner with Vercel's AI SDK (`ai` with `@ai-sdk/openai`): the provider's base URL is the gatekeeper's,
 * its API key the agent's gatekeeper key, nothing else changes. Tool calls the gatekeeper withholds never reach
 * `execute`; the model reads the gatekeeper's reason in their place.
 *
 *   export GATEKEEPER_URL=http://127.0.0.1:8787 GATEKEEPER_KEY=<the agent's gatekeeper key>
 *   npx tsx examples/agent-frameworks/vercel-ai.ts "Restock STEEL-9"
 */
import { pathToFileURL } from 'node:url';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool, type ToolSet } from 'ai';
import { z } from 'zod';

export interface PlannerOptions {
  gatekeeperUrl: string;
  apiKey: string;
  prompt: string;
  model?: string;
  /** Chat completions (`provider.chat`) or the Responses API (`provider.responses`). */
  api?: 'chat' | 'responses';
  stream?: boolean;
}

export interface PlannerRun {
  text: string;
  toolsRun: string[];
  /** What the first step's content held (tool calls, and the gatekeeper's note on a withheld one). */
  firstStep: unknown;
}

export async function runPlanner(o: PlannerOptions): Promise<PlannerRun> {
  const toolsRun: string[] = [];
  const tools: ToolSet = {
    lookup_stock: tool({
      description: 'Units of a SKU on hand',
      inputSchema: z.object({ sku: z.string() }),
      execute: async ({ sku }) => {
        toolsRun.push(`lookup_stock ${sku}`);
        return { sku, on_hand: 340 };
      },
    }),
    place_order: tool({
      description: 'Order units of a SKU from the usual supplier',
      inputSchema: z.object({ sku: z.string(), quantity: z.number(), total: z.number() }),
      execute: async ({ sku, quantity }) => {
        toolsRun.push(`place_order ${sku} x${quantity}`);
        return { ok: true };
      },
    }),
  };
  // The one change an agent makes: the gatekeeper is its OpenAI endpoint.
  const provider = createOpenAI({ baseURL: `${o.gatekeeperUrl}/v1`, apiKey: o.apiKey });
  const model = (o.api ?? 'chat') === 'chat' ? provider.chat(o.model ?? 'gpt-4o-mini') : provider.responses(o.model ?? 'gpt-4o-mini');
  const settings = { model, prompt: o.prompt, tools, stopWhen: stepCountIs(3) };
  if (o.stream) {
    const result = streamText(settings);
    let text = '';
    for await (const delta of result.textStream) text += delta;
    return { text, toolsRun, firstStep: (await result.steps)[0]?.content };
  }
  const result = await generateText(settings);
  return { text: result.text, toolsRun, firstStep: result.steps[0]?.content };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apiKey = process.env.GATEKEEPER_KEY;
  if (!apiKey) throw new Error('set GATEKEEPER_KEY to the agent key the gatekeeper knows');
  const { text, toolsRun } = await runPlanner({
    gatekeeperUrl: process.env.GATEKEEPER_URL ?? 'http://127.0.0.1:8787',
    apiKey,
    prompt: process.argv[2] ?? 'Restock STEEL-9',
    ...(process.env.MODEL ? { model: process.env.MODEL } : {}),
  });
  console.log(`tools run: ${toolsRun.join(', ') || 'none'}`);
  console.log(text);
}
