/** `gatekeeper budgets [--config FILE] [--url URL] [--json]`: spend and remaining budget in the current windows. */
import { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import { PostgresStorage } from '../stores/postgres/storage.js';
import { openBudgets } from './module.js';
import { BudgetView } from './schema.js';
import { formatBudgetTable } from './table.js';

export function budgetsCommand(): Command {
  return new Command('budgets')
    .description('show spend, reservations and remaining budget per budget in the current windows')
    .option('-c, --config <file>', 'configuration file (reads the budget store directly)', 'gatekeeper.yaml')
    .option('--url <url>', 'ask a running gatekeeper instead (GET <url>/v1/budgets, an admin endpoint)')
    .option('--key <key>', 'admin key for --url (default: $GATEKEEPER_ADMIN_KEY; not needed on the admin.listen address)')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { config: string; url?: string; key?: string; json?: boolean }) => {
      const views = options.url ? await fromServer(options.url, options.key ?? process.env.GATEKEEPER_ADMIN_KEY) : await fromStore(options.config);
      process.stdout.write(options.json ? `${JSON.stringify({ budgets: views }, null, 2)}\n` : formatBudgetTable(views));
    });
}

async function fromStore(configFile: string): Promise<BudgetView[]> {
  const loaded = loadConfigFile(configFile);
  const config = loaded.config.budgets;
  if (!config) throw new Error(`${configFile} has no budgets section`);
  const postgres = loaded.config.storage.postgres ? await PostgresStorage.open(loaded.config.storage.postgres, process.env) : undefined;
  const budgets = openBudgets(config, loaded.dir, {}, postgres);
  try {
    return await budgets.overview();
  } finally {
    await budgets.store.close();
    await postgres?.close();
  }
}

async function fromServer(url: string, key: string | undefined): Promise<BudgetView[]> {
  const target = `${url.replace(/\/+$/, '')}/v1/budgets`;
  let res: Response;
  try {
    res = await fetch(target, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  } catch (err) {
    throw new Error(`cannot reach ${target}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new Error(`${target} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { budgets?: unknown };
  const parsed = BudgetView.array().safeParse(body.budgets);
  if (!parsed.success) throw new Error(`${target} did not return a budgets list`);
  return parsed.data;
}
