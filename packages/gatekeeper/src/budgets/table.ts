/** The `gatekeeper budgets` table: one row per budget counter in its current window. */
import type { BudgetView } from './schema.js';

const COLUMNS: [string, (v: BudgetView) => string][] = [
  ['BUDGET', (v) => v.budget],
  ['SCOPE', (v) => `${v.scope}:${v.subject}`],
  ['METER', (v) => v.meter],
  ['WINDOW', (v) => (v.window_start ? `${v.window} from ${v.window_start.replace(/:00\.000Z$/, 'Z')}` : v.window)],
  ['CAP', (v) => money(v.cap, v.currency)],
  ['SPENT', (v) => money(v.spent, v.currency)],
  ['RESERVED', (v) => money(v.reserved, v.currency)],
  ['REMAINING', (v) => money(v.remaining, v.currency)],
  ['USED', (v) => (v.cap > 0 ? `${Math.round(((v.spent + v.reserved) / v.cap) * 100)}%` : '-')],
];

const NUMERIC = new Set(['CAP', 'SPENT', 'RESERVED', 'REMAINING', 'USED']);

export function formatBudgetTable(views: BudgetView[]): string {
  if (views.length === 0) return 'no budgets configured (see the budgets section of gatekeeper.yaml)\n';
  const rows = [COLUMNS.map(([h]) => h), ...views.map((v) => COLUMNS.map(([, f]) => f(v)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (NUMERIC.has(COLUMNS[i]![0]) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function money(value: number, currency: string): string {
  return `${value.toFixed(Math.max(2, decimals(value)))} ${currency}`;
}

function decimals(value: number): number {
  const s = String(value);
  const dot = s.indexOf('.');
  return dot === -1 ? 0 : Math.min(6, s.length - dot - 1);
}
