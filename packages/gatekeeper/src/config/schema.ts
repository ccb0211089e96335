/**
 * gatekeeper.yaml, validated with zod at start. Objects are strict so a misspelt key is an error, not a silently
 * ignored setting. `approvals` belongs to its plug-in, which validates its own section.
 * Secrets never appear in the file: API keys are stored as sha256 hashes, upstream credentials name env vars.
 */
import { SIG_COSIGNATURE_ED25519, parseVerifierKey } from '@oagf/ledger';
import { SIGNING_ALGORITHMS } from '@oagf/rego';
import { z } from 'zod';
import { BudgetsConfig } from '../budgets/config.js';
import { SessionsConfig } from '../sessions/config.js';
import { identityConflicts } from '../identity.js';

const SHA256 = /^sha256:[0-9a-f]{64}$/;

/** A credential taken from the environment at start, optionally prefixed (e.g. "Bearer "). */
export const EnvSecret = z.strictObject({
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
  prefix: z.string().default(''),
});

const Listen = z
  .union([
    z.string().regex(/^[^:\s]+:\d+$/, 'must be "host:port"'),
    z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }),
  ])
  .transform((v) => (typeof v === 'string' ? { host: v.slice(0, v.lastIndexOf(':')), port: Number(v.slice(v.lastIndexOf(':') + 1)) } : v));

export const AgentConfig = z.strictObject({
  id: z.string().min(1),
  owner: z.string().optional(),
  team: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  api_keys: z
    .array(z.string().regex(SHA256, 'API keys are stored only as "sha256:<64 hex>" (see `gatekeeper hash-key`)'))
    .default([]),
});

export const JwtConfig = z
  .strictObject({
    issuer: z.string().min(1),
    audience: z.union([z.string(), z.array(z.string())]).optional(),
    jwks_file: z.string().optional(),
    jwks_url: z.url().optional(),
    /** Claim that names the agent id (must match an agent in `agents`). */
    agent_claim: z.string().default('sub'),
    algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'])).default(['RS256', 'ES256', 'EdDSA']),
    clock_skew_s: z.number().int().nonnegative().default(60),
  })
  .refine((j) => (j.jwks_file ? 1 : 0) + (j.jwks_url ? 1 : 0) === 1, 'set exactly one of jwks_file or jwks_url');

export const LlmUpstream = z
  .strictObject({
    name: z.string().min(1),
    /**
     * e.g. https://api.openai.com/v1, http://127.0.0.1:8000/v1 (vLLM), https://<res>.openai.azure.com (Azure),
     * https://api.anthropic.com (Anthropic: the Messages API's own /v1 is added).
     */
    base_url: z.url(),
    /** Which API it speaks: OpenAI's (`openai`, `azure`: deployment paths, api-key header) or Anthropic's Messages API. */
    flavor: z.enum(['openai', 'azure', 'anthropic']).default('openai'),
    api_key: EnvSecret.optional(),
    /** Model names (or "prefix*" patterns) routed to this upstream; empty = the default route. */
    models: z.array(z.string()).default([]),
    api_version: z.string().optional(),
    /** `anthropic-version` sent to an Anthropic upstream whatever the agent asks for; unset: the agent's (else 2023-06-01). */
    anthropic_version: z.string().min(1).optional(),
    timeout_ms: z.number().int().positive().default(120_000),
  })
  .refine((u) => u.flavor !== 'azure' || u.api_version !== undefined, { message: 'Azure upstreams need api_version', path: ['api_version'] });

const RETRYABLE = ['connection', 'timeout', '429', '5xx'] as const;

/** Retries of one upstream before the next one in a model's route is tried. */
export const LlmRetry = z.strictObject({
  /** Further attempts on the same upstream after the first (0: go straight to the next upstream). */
  retries: z.number().int().nonnegative().max(10).default(0),
  /** What is retried: a connection that failed before any answer, a timeout, 429, any 5xx. */
  on: z.array(z.enum(RETRYABLE)).default(['connection', '429', '5xx']),
  /** Exponential back-off from initial_ms, doubling up to max_ms; an upstream's Retry-After is honoured up to max_ms. */
  initial_ms: z.number().int().positive().default(250),
  max_ms: z.number().int().positive().default(8_000),
});

/** An ordered list of upstreams for some models: the first is called, the next ones when it fails (after its retries). */
export const LlmRoute = z.strictObject({
  models: z.array(z.string().min(1)).min(1),
  upstreams: z.array(z.string().min(1)).min(1),
});

const protocol = (flavor: string) => (flavor === 'anthropic' ? 'anthropic' : 'openai');

export const LlmConfig = z
  .strictObject({
    upstreams: z.array(LlmUpstream).min(1),
    /** Name of the upstream for models no `models` list matches. */
    default: z.string().optional(),
    /** Fallbacks: models whose calls try several upstreams in order (before the upstreams' own `models`). */
    routes: z.array(LlmRoute).default([]),
    retry: LlmRetry.prefault({}),
    /** What the agent receives when a proposed tool call is denied. */
    denied_tool_call: z.enum(['message', 'error']).default('message'),
    /**
     * Output items (and chat tool-call types) the gatekeeper does not know. Each is decided as `llm.unknown_item`
     * and recorded; `withhold` (default) keeps it from the agent whatever the outcome, `decide` releases it on an allow.
     */
    unknown_items: z.enum(['withhold', 'decide']).default('withhold'),
    /** How long `GET /v1/models` keeps the lists fetched from upstreams (when no model is configured by name). */
    models_cache_s: z.number().int().nonnegative().default(60),
  })
  .superRefine((llm, ctx) => {
    const flavors = new Map(llm.upstreams.map((u) => [u.name, u.flavor]));
    llm.upstreams.forEach((u, i) => {
      if (llm.upstreams.findIndex((o) => o.name === u.name) < i) ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'name'], message: `upstream name "${u.name}" is used twice` });
    });
    if (llm.default !== undefined && !flavors.has(llm.default)) ctx.addIssue({ code: 'custom', path: ['default'], message: `names upstream "${llm.default}", which is not in llm.upstreams` });
    llm.routes.forEach((r, i) => {
      r.upstreams.forEach((name, j) => {
        if (!flavors.has(name)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstreams', j], message: `names upstream "${name}", which is not in llm.upstreams` });
      });
      const protocols = new Set(r.upstreams.filter((n) => flavors.has(n)).map((n) => protocol(flavors.get(n)!)));
      if (protocols.size > 1) ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstreams'], message: 'a route mixes OpenAI and Anthropic upstreams: a call cannot fall back to an upstream speaking another API' });
    });
  });

export const ApiConfig = z.strictObject({
  base_url: z.url(),
  /** Headers the gatekeeper adds (credentials): the agent never holds them. */
  headers: z.record(z.string(), EnvSecret).default({}),
  /** The agent's request headers this API may see (default: upstream/headers.ts DEFAULT_REQUEST_HEADERS). */
  forward_headers: z.array(z.string().min(1)).optional(),
  timeout_ms: z.number().int().positive().default(30_000),
});

const SERVER_NAME = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

/** An MCP server the gatekeeper spawns and supervises, speaking MCP over its stdin/stdout. */
export const McpStdioServer = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** The child's environment: literal values or credentials taken from the gatekeeper's environment. Nothing else is inherited but PATH, HOME and the like. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.union([z.string(), EnvSecret])).default({}),
  cwd: z.string().optional(),
  /** Restart after an exit: wait initial_ms, doubling up to max_ms; the wait resets once the process has run stable_ms. */
  restart: z
    .strictObject({
      initial_ms: z.number().int().positive().default(250),
      max_ms: z.number().int().positive().default(30_000),
      stable_ms: z.number().int().positive().default(30_000),
    })
    .prefault({}),
});

/** An MCP server reached over Streamable HTTP; credentials are added by the gatekeeper, never held by the agent. */
export const McpHttpServer = z.strictObject({
  url: z.url(),
  headers: z.record(z.string(), EnvSecret).default({}),
});

export const McpServerConfig = z
  .strictObject({
    stdio: McpStdioServer.optional(),
    http: McpHttpServer.optional(),
    /** Longest a tools/call, resources/read or prompts/get may take upstream (then it is cancelled and fails). */
    timeout_ms: z.number().int().positive().default(60_000),
    /** Tool name prefix on the aggregate endpoint (`<prefix><separator><tool>`); the server name by default. */
    prefix: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').optional(),
  })
  .refine((s) => (s.stdio ? 1 : 0) + (s.http ? 1 : 0) === 1, 'set exactly one of stdio or http');

export const McpConfig = z
  .strictObject({
    servers: z.record(z.string().regex(SERVER_NAME, 'server names are lower-case letters and digits, single - or _ between them'), McpServerConfig),
    /** Between prefix and tool name on the aggregate endpoint `/mcp`. */
    separator: z.string().min(1).default('__'),
    /** Public URL of the `/mcp` endpoint, named in the RFC 9728 protected-resource metadata (default: from `listen`). */
    resource_url: z.url().optional(),
    /** Authorization servers clients may get gatekeeper tokens from (RFC 9728 `authorization_servers`); none: API keys. */
    authorization_servers: z.array(z.url()).default([]),
    sessions: z
      .strictObject({ idle_timeout_s: z.number().int().positive().default(3600), max: z.number().int().positive().default(10_000) })
      .prefault({}),
  })
  .refine((m) => Object.keys(m.servers).every((name) => !name.includes(m.separator)), {
    message: 'a server name must not contain the separator',
    path: ['servers'],
  });

/** Where an action's monetary amount lives. The first rule whose `match` fits the action is used. */
export const AmountLocation = z
  .strictObject({
    match: z
      .strictObject({
        kind: z.string().optional(),
        tool: z.string().optional(),
        api: z.string().optional(),
        method: z.string().optional(),
        /** Path prefix for http.request (e.g. "/orders"). */
        path: z.string().optional(),
      })
      .default({}),
    /** Dotted path into the action, e.g. "arguments.total" or "body.order.amount". */
    value: z.string().min(1),
    /** Fixed ISO 4217 currency, or ... */
    currency: z.string().length(3).optional(),
    /** ... a dotted path to it in the action. */
    currency_from: z.string().optional(),
    /** Divide the found number by this (e.g. 100 for amounts in cents). */
    divisor: z.number().positive().default(1),
  })
  .refine((a) => a.currency || a.currency_from, 'set currency or currency_from');

const URL_BUNDLE = /^https?:\/\//;

const BundleVerificationKey = z
  .strictObject({
    algorithm: z.enum(SIGNING_ALGORITHMS),
    /** PEM public key or certificate (RS*, PS*, ES*, EdDSA). */
    key_file: z.string().min(1).optional(),
    /** Environment variable holding the key (the HMAC secret for HS*). */
    key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    scope: z.string().optional(),
  })
  .refine((k) => (k.key_file ? 1 : 0) + (k.key_env ? 1 : 0) === 1, 'set exactly one of key_file or key_env');

/** OPA's bundle signature verification (`keys` plus a bundle's `signing` section); set, only signed bundles load. */
export const BundleVerificationConfig = z
  .strictObject({
    keys: z.record(z.string().min(1), BundleVerificationKey).refine((k) => Object.keys(k).length > 0, 'name at least one key'),
    /** The key every bundle must be signed with, whatever key id its signature names. */
    key_id: z.string().min(1).optional(),
    scope: z.string().optional(),
    /** Bundle files left out of verification (globs, as OPA's exclude_files). */
    exclude_files: z.array(z.string().min(1)).default([]),
  })
  .refine((v) => !v.key_id || v.key_id in v.keys, { message: 'key_id names no key in keys', path: ['key_id'] });

export const PolicyConfig = z
  .strictObject({
    /**
     * Where the policy comes from: directories (e.g. the OAGF library plus your rules and data.yaml) of .rego files
     * plus data.json / data.yaml; or one OPA bundle archive (.tar.gz, e.g. from `rego build`); or the URL of a bundle
     * on an OPA-compatible bundle server, polled for new revisions.
     */
    bundle: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((b) => (Array.isArray(b) ? b : [b])),
    watch: z.boolean().default(true),
    max_steps: z.number().int().positive().default(1_000_000),
    timeout_ms: z.number().int().positive().default(100),
    debounce_ms: z.number().int().nonnegative().default(200),
    /** Which decisions carry an explanation: every one, deny/escalate only (default: cheaper on the allow path), none. */
    explain: z.enum(['all', 'refusals', 'none']).default('refusals'),
    verification: BundleVerificationConfig.optional(),
    /** Bundle server polling, as OPA's `polling` (seconds). */
    polling: z
      .strictObject({
        min_delay_seconds: z.number().positive().default(60),
        max_delay_seconds: z.number().positive().default(120),
        long_polling_timeout_seconds: z.number().int().positive().optional(),
      })
      .refine((p) => p.max_delay_seconds >= p.min_delay_seconds, 'max_delay_seconds is less than min_delay_seconds')
      .default({ min_delay_seconds: 60, max_delay_seconds: 120 }),
    /** Bundle server credentials: a bearer token from the environment. */
    credentials: z.strictObject({ bearer: EnvSecret }).optional(),
  })
  .superRefine((p, ctx) => {
    const urls = p.bundle.filter((b) => URL_BUNDLE.test(b));
    if (urls.length && p.bundle.length > 1) ctx.addIssue({ code: 'custom', path: ['bundle'], message: 'a bundle server URL must be the only bundle' });
    if (p.credentials && !urls.length) ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'credentials are for a bundle server URL' });
  });

export const isBundleUrl = (bundle: string): boolean => URL_BUNDLE.test(bundle);

const WitnessEndpoint = z.strictObject({
  /** Submission prefix: checkpoints are POSTed to `<url>/add-checkpoint`. */
  url: z.url({ protocol: /^https?$/ }),
  /** The witness's cosigner verifier key (type 0x04): only cosignatures by it are kept. */
  vkey: z.string().superRefine((vkey, ctx) => {
    let type: number;
    try {
      type = parseVerifierKey(vkey).type;
    } catch (error) {
      return ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
    if (type !== SIG_COSIGNATURE_ED25519) ctx.addIssue({ code: 'custom', message: 'not a witness (cosigner, type 0x04) verifier key: make one with `gatekeeper witness keygen`' });
  }),
});

export const LedgerConfig = z.strictObject({
  /** SQLite file of the ledger; not used (and not needed) with `storage.postgres`. */
  path: z.string().min(1).optional(),
  /** C2SP note signer key file (`gatekeeper ledger keygen`). */
  signing_key_file: z.string().min(1),
  origin: z.string().min(1).default('gatekeeper.local/ledger'),
  /** Sign a checkpoint after this many entries or milliseconds, whichever comes first. */
  checkpoint_every: z.strictObject({ entries: z.number().int().positive().optional(), ms: z.number().int().positive().optional() }).optional(),
  /**
   * What an acknowledged decision record survives. `fsync` (default): power loss and OS crashes — each group commit
   * waits for the disk (adds roughly one fsync, ~1-3 ms on common disks, to every decision). `buffered`: a crash of
   * the gatekeeper process, but power loss or an OS crash may drop the last records (the log stays verifiable; it
   * loses its tail), in exchange for sub-millisecond decisions.
   */
  durability: z.enum(['fsync', 'buffered']).default('fsync'),
  /**
   * C2SP tlog-witnesses (e.g. `gatekeeper witness serve`): each new checkpoint is sent to every one with a
   * consistency proof, and /ledger/checkpoint serves it with the cosignatures they returned.
   */
  witnesses: z.array(WitnessEndpoint).default([]),
});

const SandboxLimits = z.strictObject({
  wallTimeMs: z.number().int().positive().optional(),
  cpuTimeMs: z.number().int().positive().optional(),
  cpuCores: z.number().positive().optional(),
  memoryBytes: z.number().int().positive().optional(),
  pids: z.number().int().positive().optional(),
  diskBytes: z.number().int().positive().optional(),
  outputBytes: z.number().int().positive().optional(),
  openFiles: z.number().int().positive().optional(),
  outputFilesBytes: z.number().int().nonnegative().optional(),
});

/** Agent code execution (`POST /v1/sandbox/executions`, packages/sandbox): off unless configured. */
export const SandboxConfig = z.strictObject({
  driver: z.enum(['bwrap', 'gvisor', 'microvm']).default('bwrap'),
  concurrency: z.number().int().positive().optional(),
  max_queued: z.number().int().nonnegative().default(100),
  /** bwrap sandboxes kept set up ahead of requests (default: concurrency; 0: none). */
  warm: z.number().int().nonnegative().optional(),
  /** Host uid/gid of the sandboxed code when the gatekeeper runs as root (never 0). */
  uid: z.number().int().positive().default(65534),
  gid: z.number().int().positive().default(65534),
  cgroups: z.strictObject({ mode: z.enum(['auto', 'v1', 'v2', 'none']).default('auto'), parent: z.string().optional() }).prefault({}),
  /** Run although memory/pids/CPU limits cannot be enforced (no usable cgroup); every outcome then says so. */
  allow_unenforced_limits: z.boolean().default(false),
  default_limits: SandboxLimits.default({}),
  max_limits: SandboxLimits.default({}),
  /** Total bytes of code and input files per execution. */
  max_input_bytes: z.number().int().positive().default(16 * 1024 * 1024),
});

/** The `decision_logs:` section: OPA-compatible decision-log events to the console and/or an HTTP service. */
export const DecisionLogsConfig = z.strictObject({
  /** One JSON line per decision through the gatekeeper's logger, as OPA's console decision logger writes them. */
  console: z.boolean().default(false),
  /** An OPA-compatible decision-log service: batches POSTed gzip-compressed to `url` + `resource`. */
  service: z
    .strictObject({
      url: z.url(),
      resource: z.string().startsWith('/').default('/logs'),
      headers: z.record(z.string(), EnvSecret).default({}),
      timeout_ms: z.number().int().positive().default(10_000),
    })
    .optional(),
  /** A batch goes out when it holds max_events, or max_delay_ms after its first event. */
  batch: z.strictObject({ max_events: z.number().int().positive().default(100), max_delay_ms: z.number().int().positive().default(1000) }).prefault({}),
  /** Events waiting for the service; past this the oldest are dropped (counted): the ledger, not the sink, is the record. */
  buffer_events: z.number().int().positive().default(10_000),
  /** Failed batches are retried with exponential back-off up to this delay. */
  max_retry_delay_ms: z.number().int().positive().default(30_000),
  labels: z.record(z.string(), z.string()).default({}),
});

/** Traces over OTLP/HTTP (src/telemetry/): off, at no cost, unless configured. */
export const TelemetryConfig = z.strictObject({
  otlp: z.strictObject({
    /** The OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces. */
    endpoint: z.url(),
    headers: z.record(z.string(), EnvSecret).default({}),
  }),
  service_name: z.string().min(1).default('gatekeeper'),
  /** Fraction of new traces sampled (a trace the agent sampled is always followed). */
  sample_ratio: z.number().min(0).max(1).default(1),
  flush_ms: z.number().int().positive().default(1000),
});

/** Shape limits on JSON the policy reads, checked before it is decided (413 naming the limit). */
export const LimitsConfig = z.strictObject({
  body_bytes: z.number().int().positive().default(4 * 1024 * 1024),
  json: z
    .strictObject({
      depth: z.number().int().positive().default(64),
      array_length: z.number().int().positive().default(10_000),
      object_keys: z.number().int().positive().default(1_000),
      string_length: z.number().int().positive().default(4 * 1024 * 1024),
      values: z.number().int().positive().default(100_000),
    })
    .prefault({}),
});

/**
 * Shared storage for replicas: with `postgres`, the ledger, approvals, budgets, console sessions and the notifier
 * all live in one PostgreSQL schema the gatekeeper creates and migrates itself (src/stores/postgres/).
 */
export const StorageConfig = z.strictObject({
  postgres: z
    .strictObject({
      /** Connection string (postgres://user@host:5432/db), or `{env: DATABASE_URL}` to keep credentials out of the file. */
      url: z.union([z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string'), EnvSecret]),
      /** Schema holding every table; replicas sharing one ledger and one set of budgets name the same schema. */
      schema: z.string().regex(/^[a-z_][a-z0-9_]{0,49}$/, 'must be a lowercase PostgreSQL identifier (a-z, 0-9, _; at most 50 characters)'),
      pool: z
        .strictObject({
          /** Connections for approvals, budgets and sessions. */
          max: z.number().int().positive().default(10),
          /** Connections the ledger sequences and reads with. */
          ledger_max: z.number().int().positive().default(4),
          /** Give up connecting after this long (a start against an unreachable database fails instead of hanging). */
          connect_timeout_ms: z.number().int().positive().default(5000),
        })
        .prefault({}),
    })
    .optional(),
});

/** Who may read the admin endpoints (/metrics, /v1/budgets, the ledger's tiles). */
export const AdminConfig = z.strictObject({
  /** sha256 of keys presented as `Authorization: Bearer <key>` (see `gatekeeper hash-key`). */
  api_keys: z.array(z.string().regex(SHA256, 'admin keys are stored only as "sha256:<64 hex>" (see `gatekeeper hash-key`)')).default([]),
  /** Serve the admin endpoints on this address instead, without a key (bind it where only operators reach it). */
  listen: Listen.optional(),
  /** Serve the ledger's tlog-tiles (checkpoint, tiles, entries) to anyone, e.g. witnesses and auditors. */
  public_ledger: z.boolean().default(false),
});

export const GatekeeperConfig = z.strictObject({
  listen: Listen.default({ host: '127.0.0.1', port: 8787 }),
  admin: AdminConfig.prefault({}),
  agents: z
    .array(AgentConfig)
    .default([])
    .superRefine((agents, ctx) => {
      // Owners are compared as canonical identities (four eyes): one spelling each, nothing that looks like another.
      const owners = agents.flatMap((a, i) => (a.owner === undefined ? [] : [{ path: [i, 'owner'], value: a.owner }]));
      for (const p of identityConflicts(owners, false, 'agents')) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    }),
  auth: z.strictObject({ jwt: JwtConfig.optional() }).default({}),
  llm: LlmConfig.optional(),
  apis: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'API names are lower-case url-safe'), ApiConfig).default({}),
  amounts: z.array(AmountLocation).default([]),
  policy: PolicyConfig,
  ledger: LedgerConfig,
  storage: StorageConfig.prefault({}),
  limits: LimitsConfig.prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** One line per request (method, path, status, latency, agent, decision, rule, ledger index): info level. */
      requests: z.boolean().default(true),
    })
    .prefault({}),
  /** Secrets replaced by "[REDACTED]" in everything kept or shown (ledger, logs, notices, console), beyond the built-in formats. */
  redact: z.strictObject({ patterns: z.array(z.string()).default([]) }).prefault({}),
  /** Owned by the approvals plug-in, which validates it. */
  approvals: z.unknown().optional(),
  telemetry: TelemetryConfig.optional(),
  /** OPA-compatible decision-log events (src/decision-logs/). */
  decision_logs: DecisionLogsConfig.optional(),
  sandbox: SandboxConfig.optional(),
  /** MCP servers behind `/mcp` (src/surfaces/mcp/). */
  mcp: McpConfig.optional(),
  /** Spending caps with escrow (src/budgets/config.ts). */
  budgets: BudgetsConfig.optional(),
  /** Session history for session-aware policies (src/sessions/). */
  sessions: SessionsConfig.optional(),
}).superRefine((config, ctx) => {
  if (config.ledger.path === undefined && !config.storage.postgres) {
    ctx.addIssue({ code: 'custom', path: ['ledger', 'path'], message: 'required: the SQLite file of the ledger (or configure storage.postgres)' });
  }
});

export type GatekeeperConfig = z.output<typeof GatekeeperConfig>;
export type AgentConfig = z.output<typeof AgentConfig>;
export type JwtConfig = z.output<typeof JwtConfig>;
export type LlmConfig = z.output<typeof LlmConfig>;
export type LlmUpstream = z.output<typeof LlmUpstream>;
export type LlmRetry = z.output<typeof LlmRetry>;
export type ApiConfig = z.output<typeof ApiConfig>;
export type LimitsConfig = z.output<typeof LimitsConfig>;
export type SandboxConfig = z.output<typeof SandboxConfig>;
export type DecisionLogsConfig = z.output<typeof DecisionLogsConfig>;
export type AmountLocation = z.output<typeof AmountLocation>;
export type EnvSecret = z.output<typeof EnvSecret>;
export type StorageConfig = z.output<typeof StorageConfig>;
export type PostgresStorageConfig = NonNullable<StorageConfig['postgres']>;
export type McpConfig = z.output<typeof McpConfig>;
export type McpServerConfig = z.output<typeof McpServerConfig>;
