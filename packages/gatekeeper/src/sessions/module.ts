/** The sessions plug-in as the server loads it: opens the history store and registers the gate hooks. */
import { isAbsolute, resolve } from 'node:path';
import type { GatekeeperModule } from '../surface.js';
import type { PostgresStorage } from '../stores/postgres/storage.js';
import type { SessionHistoryStore } from '../stores/session-history.js';
import { SqliteSessionHistoryStore } from '../stores/sqlite/session-history.js';
import { durationMs, type SessionsConfig } from './config.js';
import { sessionHooks } from './hooks.js';

const SWEEP_MS = 60_000;

/** Which actions enter the history: the configured kinds, by default everything but model requests. */
function keptKinds(config: SessionsConfig): (kind: string) => boolean {
  if (config.kinds) {
    const kinds = new Set(config.kinds);
    return (kind) => kinds.has(kind);
  }
  return (kind) => kind !== 'llm.request';
}

/** The shared PostgreSQL schema when given (`storage.postgres`: replicas see one history), else the SQLite file. */
export function openSessionHistory(config: SessionsConfig, configDir: string, postgres?: PostgresStorage): SessionHistoryStore {
  const limits = { maxEntries: config.max_actions, ttlMs: durationMs(config.expire) };
  if (postgres) return postgres.sessionHistory(limits);
  const path = config.store.sqlite;
  const file = path === ':memory:' || isAbsolute(path) ? path : resolve(configDir, path);
  return new SqliteSessionHistoryStore(file, limits);
}

export const sessionsModule: GatekeeperModule = {
  name: 'sessions',
  setup(deps) {
    const config = deps.config.sessions;
    if (config === undefined) return {};
    const store = openSessionHistory(config, deps.configDir, deps.postgres);
    const windows = config.windows.map((name) => ({ name, ms: durationMs(name) }));
    // Expired entries are already invisible; the sweep only gives their space back.
    const timer = setInterval(() => {
      store.sweep(deps.clock().getTime()).catch((err: unknown) => deps.logger.warn({ err }, 'session history sweep failed'));
    }, SWEEP_MS);
    timer.unref();
    return {
      hooks: sessionHooks(store, windows, keptKinds(config)),
      close: async () => {
        clearInterval(timer);
        await store.close();
      },
    };
  },
};
