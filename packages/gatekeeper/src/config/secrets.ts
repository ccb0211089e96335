/** Credentials named in the config by environment variable, read at start; a missing one is an error naming where. */
import type { EnvSecret } from './schema.js';

export function envSecret(secret: EnvSecret, env: NodeJS.ProcessEnv, where: string): string {
  return secret.prefix + requiredEnv(env, secret.env, where);
}

export function requiredEnv(env: NodeJS.ProcessEnv, name: string, where: string): string {
  const value = env[name];
  if (value === undefined) throw new Error(`${where}: environment variable ${name} is not set`);
  return value;
}
