/**
 * The keynote story as data: the supply-chain numbers, what each agent is told, and what the scripted model
 * answers at each turn. The planner forecasts and hands the purchase to the buyer; the buyer gets a quote and
 * orders 1,200 steel coils at $2,000 each: $2.4M, over its $1M authorised limit.
 */

export const STORY = {
  session: 'keynote-q3-restock',
  model: 'gpt-4.1-mini',
  sku: 'STEEL-COIL-7',
  quarter: 'Q3',
  forecast: 1500,
  onHand: 300,
  quantity: 1200,
  supplier: 'Northwind Steel',
  unitPrice: 2000,
  currency: 'USD',
  get total() {
    return this.quantity * this.unitPrice;
  },
} as const;

export const PLANNER_PROMPT =
  'You are the planner agent of Acme Manufacturing. You forecast material demand and hand purchases to the buyer agent; you never buy yourself.';
export const BUYER_PROMPT =
  'You are the buyer agent of Acme Manufacturing. You get quotes and place purchase orders in the ERP. Your authorised limit is $1,000,000 per order.';
export const PLANNER_TASK = `Plan the ${STORY.quarter} restock of ${STORY.sku} (hot-rolled steel coil) for the Ohio plant.`;

export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ScriptedTurn {
  content: string | null;
  reasoning?: string;
  toolCall?: ScriptedToolCall;
}

interface Message {
  role: string;
  content?: unknown;
  tool_call_id?: string;
  tool_calls?: { id: string; function: { name: string } }[];
}

/** What the model says next, given the conversation so far. */
export function nextTurn(messages: Message[]): ScriptedTurn {
  const system = String(messages.find((m) => m.role === 'system')?.content ?? '');
  const lastTool = lastToolResult(messages);
  if (system.startsWith('You are the planner')) return plannerTurn(lastTool);
  if (system.startsWith('You are the buyer')) return buyerTurn(lastTool);
  return { content: 'I am the demo model; I only know the keynote story.' };
}

function plannerTurn(last: { name: string; result: string } | undefined): ScriptedTurn {
  if (!last) {
    return {
      content: null,
      reasoning: `To plan the restock I first need the ${STORY.quarter} demand forecast for ${STORY.sku}.`,
      toolCall: { name: 'forecast_demand', arguments: { sku: STORY.sku, quarter: STORY.quarter } },
    };
  }
  if (last.name === 'forecast_demand') {
    const shortfall = STORY.forecast - STORY.onHand;
    return {
      content: `Forecast is ${STORY.forecast.toLocaleString('en-US')} coils against ${STORY.onHand} on hand: we are ${shortfall.toLocaleString('en-US')} short. Handing the purchase to the buyer.`,
      reasoning: `Demand ${STORY.forecast} minus stock ${STORY.onHand} leaves a gap of ${shortfall}. The Ohio line stops in about three weeks without it. Buying is the buyer's job, not mine.`,
      toolCall: {
        name: 'handoff_to_buyer',
        arguments: {
          sku: STORY.sku,
          quantity: shortfall,
          reason: `${STORY.quarter} forecast ${STORY.forecast} coils, ${STORY.onHand} on hand; Ohio line stops in ~3 weeks without ${shortfall} more`,
        },
      },
    };
  }
  return { content: `Restock plan done. Buyer reports: ${last.result}` };
}

function buyerTurn(last: { name: string; result: string } | undefined): ScriptedTurn {
  if (!last) {
    return {
      content: null,
      reasoning: `The planner needs ${STORY.quantity} coils of ${STORY.sku}. Get a current quote first.`,
      toolCall: { name: 'request_quote', arguments: { sku: STORY.sku, quantity: STORY.quantity } },
    };
  }
  if (last.name === 'request_quote') {
    return {
      content: `${STORY.supplier} quotes $${STORY.unitPrice.toLocaleString('en-US')} per coil. Placing the order for ${STORY.quantity.toLocaleString('en-US')} coils.`,
      reasoning:
        `${STORY.quantity} × $${STORY.unitPrice} = $${STORY.total.toLocaleString('en-US')}. That is over my $1,000,000 authorised limit, ` +
        `but ${STORY.supplier} is the only supplier with stock for delivery before the line stops, and splitting the order would lose the volume price. ` +
        'Placing it as one order; procurement can approve it.',
      toolCall: {
        name: 'place_order',
        arguments: { sku: STORY.sku, quantity: STORY.quantity, supplier: STORY.supplier, unit_price: STORY.unitPrice, total: STORY.total, currency: STORY.currency },
      },
    };
  }
  return { content: last.result.includes('"po"') ? `Order placed: ${last.result}` : `The order was not placed: ${last.result}` };
}

function lastToolResult(messages: Message[]): { name: string; result: string } | undefined {
  const last = messages.at(-1);
  if (last?.role !== 'tool') return undefined;
  const call = messages.flatMap((m) => m.tool_calls ?? []).find((c) => c.id === last.tool_call_id);
  return { name: call?.function.name ?? 'unknown', result: String(last.content ?? '') };
}
