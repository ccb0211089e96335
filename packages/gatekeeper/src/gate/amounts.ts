/**
 * Finds an action's monetary amount from the configured `amounts` locations, so policies and budgets see
 * `input.action.amount` without knowing each tool's or API's argument layout. Where a location matches the action
 * but its value or currency cannot be read, the action says so (`amount_expected`) instead of looking amount-free:
 * the standard library refuses it.
 */
import type { AmountLocation } from '../config/schema.js';
import type { OagfAction, OagfAmount } from '../spec/index.js';

/**
 * The action with its amount filled in from the configuration. A located amount wins over one the caller stated
 * (the decision API): what the arguments say is what is carried out. A stated amount stays where nothing is located.
 */
export function withAmount(action: OagfAction, locations: AmountLocation[]): OagfAction {
  if (locations.length === 0) return action;
  const found = locate(action, locations);
  if (found === undefined) return action;
  if (found === 'unreadable') return action.amount ? action : { ...action, amount_expected: true };
  return { ...action, amount: found };
}

export function findAmount(action: OagfAction, locations: AmountLocation[]): OagfAmount | undefined {
  const found = locate(action, locations);
  return typeof found === 'object' ? found : undefined;
}

function locate(action: OagfAction, locations: AmountLocation[]): OagfAmount | 'unreadable' | undefined {
  let matched = false;
  for (const loc of locations) {
    if (!matches(action, loc.match)) continue;
    matched = true;
    const raw = at(action, loc.value);
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(value)) continue;
    const currency = loc.currency ?? at(action, loc.currency_from!);
    if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) continue;
    return { value: value / loc.divisor, currency: currency.toUpperCase(), source: loc.value };
  }
  return matched ? 'unreadable' : undefined;
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
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
