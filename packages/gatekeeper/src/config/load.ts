/**
 * Loads gatekeeper.yaml: YAML syntax errors and schema violations both come back as a ConfigError listing each
 * problem with its file:line:col and the config path, e.g.
 *   gatekeeper.yaml:12:7 agents.0.api_keys.0: API keys are stored only as "sha256:<64 hex>"
 * Relative file paths in the config are resolved against the config file's directory.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { GatekeeperConfig, isBundleUrl } from './schema.js';

export interface ConfigProblem {
  path: string;
  line?: number;
  col?: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `invalid configuration ${file}:\n` +
        problems.map((p) => `  ${file}${p.line ? `:${p.line}:${p.col}` : ''} ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: GatekeeperConfig;
  file: string;
  /** Directory relative paths were resolved against (plug-ins resolve theirs the same way). */
  dir: string;
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = 'gatekeeper.yaml'): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '', line: pos.line, col: pos.col, message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const parsed = GatekeeperConfig.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(file, problemsOf(parsed.error, doc, lineCounter));
  const dir = dirname(resolve(file));
  return { config: resolvePaths(parsed.data, dir), file, dir };
}

function problemsOf(error: z.ZodError, doc: Document, lines: LineCounter): ConfigProblem[] {
  return error.issues.map((issue) => {
    let path = issue.path.map(String);
    // For unknown keys, point at the offending key itself.
    if (issue.code === 'unrecognized_keys' && issue.keys.length) path = [...path, issue.keys[0]!];
    const offset = offsetOf(doc, path);
    const pos = offset === undefined ? undefined : lines.linePos(offset);
    const message = issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'required setting is missing' : issue.message;
    return { path: path.join('.'), line: pos?.line, col: pos?.col, message };
  });
}

/** Start offset of the deepest existing node along `path` (a missing key points at its parent). */
function offsetOf(doc: Document, path: string[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const keys = path.slice(0, n).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const node = n === 0 ? doc.contents : doc.getIn(keys, true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function resolvePolicyPaths(policy: GatekeeperConfig['policy'], dir: string): GatekeeperConfig['policy'] {
  const v = policy.verification;
  return {
    ...policy,
    bundle: policy.bundle.map((b) => (isBundleUrl(b) ? b : resolve(dir, b))),
    ...(v ? { verification: { ...v, keys: Object.fromEntries(Object.entries(v.keys).map(([id, k]) => [id, k.key_file ? { ...k, key_file: resolve(dir, k.key_file) } : k])) } } : {}),
  };
}

function resolvePaths(config: GatekeeperConfig, dir: string): GatekeeperConfig {
  const jwt = config.auth.jwt;
  return {
    ...config,
    policy: resolvePolicyPaths(config.policy, dir),
    ledger: {
      ...config.ledger,
      ...(config.ledger.path === undefined ? {} : { path: config.ledger.path === ':memory:' ? config.ledger.path : resolve(dir, config.ledger.path) }),
      signing_key_file: resolve(dir, config.ledger.signing_key_file),
    },
    auth: jwt?.jwks_file ? { ...config.auth, jwt: { ...jwt, jwks_file: resolve(dir, jwt.jwks_file) } } : config.auth,
    ...(config.mcp ? { mcp: resolveMcpPaths(config.mcp, dir) } : {}),
  };
}

/** A stdio server's working directory is relative to the config file, like every other path in it. */
function resolveMcpPaths(mcp: NonNullable<GatekeeperConfig['mcp']>, dir: string): NonNullable<GatekeeperConfig['mcp']> {
  const servers = Object.fromEntries(Object.entries(mcp.servers).map(([name, s]) => [name, s.stdio?.cwd ? { ...s, stdio: { ...s.stdio, cwd: resolve(dir, s.stdio.cwd) } } : s]));
  return { ...mcp, servers };
}
