/** Telemetry from the `telemetry:` section: the OpenTelemetry exporter when configured, NO_TELEMETRY otherwise. */
import { readFileSync } from 'node:fs';
import type { GatekeeperConfig } from '../config/schema.js';
import { envSecret } from '../config/secrets.js';
import { NO_TELEMETRY, type Telemetry } from './index.js';
import { otelTelemetry } from './otel.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function telemetryOf(config: GatekeeperConfig['telemetry'], env: NodeJS.ProcessEnv): Telemetry {
  if (!config) return NO_TELEMETRY;
  const headers: Record<string, string> = {};
  for (const [name, secret] of Object.entries(config.otlp.headers)) headers[name] = envSecret(secret, env, `telemetry.otlp.headers.${name}`);
  return otelTelemetry({ serviceName: config.service_name, version: VERSION, endpoint: config.otlp.endpoint, headers, sampleRatio: config.sample_ratio, flushMs: config.flush_ms });
}
