/**
 * Finds an action's monetary amount from the configured `amounts` locations, so policies and budgets see
 * `input.action.amount` without knowing each tool's or API's argument layout.
 */
import type { AmountLocation } from '../config/schema.js';
import type { OagfAction, OagfAmount } from '../spec/index.js';

/** The action with its amount filled in where a location matches; an amount the caller stated is kept. */
export function withAmount(action: OagfAction, locations: AmountLocation[]): OagfAction {
  if (action.amount || locations.length === 0) return action;
  const amount = findAmount(action, locations);
  return amount ? { ...action, amount } : action;
}

export function findAmount(action: OagfAction, locations: AmountLocation[]): OagfAmount | undefined {
  for (const loc of locations) {
    if (!matches(action, loc.match)) continue;
    const raw = at(action, loc.value);
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(value)) continue;
    const currency = loc.currency ?? at(action, loc.currency_from!);
    if (typeof currency !== 'string' || currency.length !== 3) continue;
    return { value: value / loc.divisor, currency: currency.toUpperCase(), source: loc.value };
  }
  return undefined;
}

function matches(action: OagfAction, m: AmountLocation['match']): boolean {
  const t = action.target;
  if (m.kind !== undefined && m.kind !== action.kind) return false;
  if (m.tool !== undefined && m.tool !== t.tool) return false;
  if (m.api !== undefined && m.api !== t.api) return false;
  if (m.method !== undefined && m.method.toUpperCase() !== t.method) return false;
  if (m.path !== undefined && !(t.path ?? '').startsWith(m.path)) return false;
  return true;
}

/** Value at a dotted path ("arguments.order.total", "body.lines.0.price"). */
export function at(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
