/** The decision-logs plug-in: every recorded decision, as an OPA decision-log event, to the console and/or a service. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Counter } from 'prom-client';
import type { GatekeeperModule } from '../surface.js';
import { eventOf } from './event.js';
import { DecisionLogShipper } from './shipper.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const decisionLogsModule: GatekeeperModule = {
  name: 'decision-logs',
  setup(core) {
    const config = core.config.decision_logs;
    if (config === undefined) return {};
    const labels = { app: 'gatekeeper', id: randomUUID(), version: VERSION, ...config.labels };
    const events = new Counter({
      name: 'gatekeeper_decision_logs_total',
      help: 'Decision-log events by result: sent to the service, dropped (buffer full), or failed batch attempts',
      labelNames: ['result'] as const,
      registers: [core.metrics.registry],
    });
    let shipper: DecisionLogShipper | undefined;
    if (config.service) {
      const headers: Record<string, string> = {};
      for (const [name, secret] of Object.entries(config.service.headers)) {
        const value = core.env[secret.env];
        if (value === undefined) throw new Error(`decision_logs.service.headers.${name}: environment variable ${secret.env} is not set`);
        headers[name.toLowerCase()] = secret.prefix + value;
      }
      shipper = new DecisionLogShipper({
        url: new URL(config.service.resource.slice(1), config.service.url.endsWith('/') ? config.service.url : `${config.service.url}/`).href,
        headers,
        timeoutMs: config.service.timeout_ms,
        maxEvents: config.batch.max_events,
        maxDelayMs: config.batch.max_delay_ms,
        bufferEvents: config.buffer_events,
        maxRetryDelayMs: config.max_retry_delay_ms,
        onSent: (n) => events.inc({ result: 'sent' }, n),
        onDropped: (n) => {
          events.inc({ result: 'dropped' }, n);
          core.logger.warn({ dropped: n }, 'decision-log buffer full: oldest events dropped (the ledger keeps every decision)');
        },
        onError: (err) => {
          events.inc({ result: 'failed' });
          core.logger.warn({ err: (err as Error).message }, 'decision-log batch not delivered; retrying');
        },
      });
    }
    return {
      hooks: {
        committed(view) {
          const event = eventOf({ ...view, input: core.redactor.value(view.input) }, labels);
          if (config.console) core.logger.info({ type: 'openpolicyagent.org/decision_logs', ...event }, 'Decision Log');
          shipper?.push(event);
        },
      },
      close: () => shipper?.close(),
    };
  },
};
