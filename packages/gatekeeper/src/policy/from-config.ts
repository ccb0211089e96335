/**
 * The `policy:` section as a running PolicySource: directories or an archive on disk (watched), or a bundle server
 * (polled). Verification keys are read here, at start, so a missing key file or variable stops the start.
 */
import { readFileSync } from 'node:fs';
import type { VerificationOptions } from '@oagf/rego';
import { isBundleUrl, type GatekeeperConfig } from '../config/schema.js';
import { envSecret, requiredEnv } from '../config/secrets.js';
import { BundleServerSource, type PolicyEvents } from './bundle-server.js';
import type { PolicySource } from './engine.js';
import type { EvalLimits } from './rego.js';
import { WatchedBundle } from './source.js';

type PolicyConfig = GatekeeperConfig['policy'];

export type RunningPolicy = PolicySource & { close(): void };

export async function startPolicy(config: PolicyConfig, events: PolicyEvents, env: NodeJS.ProcessEnv = process.env): Promise<RunningPolicy> {
  const limits: EvalLimits = { maxSteps: config.max_steps, timeoutMs: config.timeout_ms, explain: config.explain };
  const verification = verificationOf(config.verification, env);
  const url = config.bundle.find(isBundleUrl);
  if (url) {
    const headers = config.credentials ? { authorization: envSecret(config.credentials.bearer, env, 'policy.credentials.bearer') } : undefined;
    const server = new BundleServerSource(
      {
        url,
        verification,
        minDelayMs: config.polling.min_delay_seconds * 1000,
        maxDelayMs: config.polling.max_delay_seconds * 1000,
        longPollingTimeoutSeconds: config.polling.long_polling_timeout_seconds,
        headers,
      },
      limits,
      events,
    );
    await server.start();
    return server;
  }
  const bundle = new WatchedBundle(config.bundle, limits, events, verification);
  const first = bundle.reload();
  if (!first.ok) throw new Error(first.error);
  if (config.watch) bundle.watch(config.debounce_ms);
  return bundle;
}

function verificationOf(v: PolicyConfig['verification'], env: NodeJS.ProcessEnv): VerificationOptions | undefined {
  if (!v) return undefined;
  const keys: VerificationOptions['keys'] = {};
  for (const [id, k] of Object.entries(v.keys)) {
    const where = `policy.verification.keys.${id}`;
    const key = k.key_file ? readKeyFile(k.key_file, where) : requiredEnv(env, k.key_env!, where);
    keys[id] = { key, algorithm: k.algorithm, ...(k.scope ? { scope: k.scope } : {}) };
  }
  return { keys, ...(v.key_id ? { keyId: v.key_id } : {}), ...(v.scope ? { scope: v.scope } : {}), exclude: v.exclude_files };
}

function readKeyFile(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${where}.key_file: cannot read ${file}: ${(err as Error).message}`);
  }
}
