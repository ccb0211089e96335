/**
 * OAGF v1 input document: what the policy sees for one agent action. This zod schema is the single source;
 * spec/input.schema.json is generated from it (`npm run spec -w @oagf/gatekeeper`).
 */
import { z } from 'zod';
import { InputBudgets } from '../budgets/schema.js';

export const KNOWN_ACTION_KINDS = [
  'llm.request',
  'llm.tool_call',
  'llm.shell_call',
  'llm.computer_call',
  'llm.patch_call',
  'llm.mcp_approval',
  'llm.unknown_item',
  'http.request',
  'mcp.tool_call',
  'mcp.tools_list',
  'mcp.resource_read',
  'mcp.resource_subscribe',
  'mcp.prompt_get',
  'mcp.resources_list',
  'mcp.prompts_list',
  'sandbox.exec',
] as const;

export const DelegationHop = z
  .object({
    agent: z.string().min(1).describe('Id of the agent that handed the work on'),
    owner: z.string().optional(),
    team: z.string().optional(),
    reason: z.string().optional().describe('Why the work was handed on, as stated by the delegating agent'),
  })
  .loose()
  .describe('One hop of a delegation chain, oldest first');

export const Agent = z
  .object({
    id: z.string().min(1).describe('Stable agent id from gatekeeper configuration'),
    owner: z.string().optional().describe('Human accountable for the agent (may not approve its escalations)'),
    team: z.string().optional(),
    labels: z.record(z.string(), z.string()).default({}),
    delegation: z.array(DelegationHop).default([]).describe('Agents that handed this work on, oldest first'),
  })
  .describe('The authenticated agent taking the action');

export const Target = z
  .object({
    model: z.string().optional().describe('llm.request: requested model'),
    tool: z
      .string()
      .optional()
      .describe('llm.tool_call / mcp.tool_call / llm.mcp_approval: tool (function) name; llm.shell_call: shell or local_shell; llm.computer_call: computer; llm.patch_call: apply_patch'),
    namespace: z.string().optional().describe('llm.tool_call: the namespace of a namespaced tool'),
    server: z.string().optional().describe('mcp.*: MCP server name from gatekeeper.yaml (absent for mcp.tools_list on the aggregate endpoint); llm.mcp_approval: the remote MCP server label'),
    api: z.string().optional().describe('http.request: configured business API name'),
    method: z.string().optional().describe('http.request: HTTP method, upper case'),
    path: z
      .string()
      .optional()
      .describe('http.request / llm.request: path below the API base, leading slash; llm.patch_call: the file the patch changes; llm.unknown_item: the endpoint it came from'),
    type: z.string().optional().describe('llm.unknown_item: the item (or chat tool-call) type the gatekeeper does not know'),
    uri: z.string().optional().describe('mcp.resource_read / mcp.resource_subscribe: resource URI'),
    prompt: z.string().optional().describe('mcp.prompt_get: prompt name'),
    language: z.enum(['python', 'javascript', 'shell', 'binary']).optional().describe('sandbox.exec: language of the code'),
    driver: z.string().optional().describe('sandbox.exec: isolation driver (bwrap, gvisor, microvm)'),
  })
  .loose()
  .describe('What the action is aimed at');

export const Amount = z
  .object({
    value: z.number().describe('Amount in major units (e.g. dollars)'),
    currency: z.string().min(3).max(3).describe('ISO 4217 code'),
    source: z.string().optional().describe('Where in the action the amount was found (configured location)'),
  })
  .describe('Monetary value of the action, where configuration declares where it lives');

export const McpDefinition = z
  .object({
    digest: z.string().describe('sha256:<hex> of the canonical JSON of the tool definition (name, title, description, schemas, annotations)'),
    pinned_digest: z.string().describe('The digest recorded in the ledger when the gatekeeper first saw this tool'),
    changed: z.boolean().describe('true when the definition differs from the pinned one ("rug pull")'),
    pinned_at: z.string().optional().describe('When the pin was recorded (RFC 3339)'),
  })
  .describe('Tool-definition pinning');

export const McpToolFacts = z
  .object({
    annotations: z.record(z.string(), z.unknown()).default({}).describe('Declared hints: readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title'),
    definition: McpDefinition,
    action: z.string().optional().describe('The action a call of this tool is judged as, when not mcp.tool_call (the sandbox\'s own tool `sandbox__run`: sandbox.exec)'),
  })
  .loose();

export const McpListedTool = z
  .object({
    server: z.string(),
    tool: z.string(),
    annotations: z.record(z.string(), z.unknown()).default({}),
    definition: McpDefinition,
    action: z.string().optional().describe('The action a call of this tool is judged as, when not mcp.tool_call (the sandbox\'s own tool `sandbox__run`: sandbox.exec)'),
  })
  .loose();

export const Action = z
  .object({
    kind: z
      .string()
      .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/)
      .describe(`Action kind: ${KNOWN_ACTION_KINDS.join(', ')} or another dotted lower-case name`),
    target: Target.default({}),
    arguments: z
      .unknown()
      .optional()
      .describe(
        'Tool-call arguments (parsed JSON), LLM request parameters, or what an output item asks for: llm.shell_call {commands, argv?, env?, working_directory?, timeout_ms?}, llm.computer_call {actions, pending_safety_checks}, llm.patch_call {operation, path, diff?}, llm.unknown_item the item itself',
      ),
    body: z.unknown().optional().describe('http.request: parsed JSON body (absent for non-JSON bodies)'),
    query: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional().describe('http.request: query parameters'),
    content: z
      .object({
        type: z.string().describe('Media type the agent declared'),
        bytes: z.number().int().nonnegative(),
        digest: z.string().describe('sha256:<hex> of the exact bytes forwarded'),
      })
      .optional()
      .describe('http.request: a body the policy cannot read (not JSON): what it is, its size and digest'),
    amount: Amount.optional(),
    amount_expected: z
      .literal(true)
      .optional()
      .describe('Set when an `amounts:` location matches this action but its value or currency could not be read: it moves money of unknown size'),
    tool: McpToolFacts.optional().describe('mcp.tool_call: what the MCP server declares about the tool'),
    tools: z.array(McpListedTool).optional().describe('mcp.tools_list: every tool the upstream servers offer, before filtering'),
    resources: z
      .array(z.object({ server: z.string(), uri: z.string() }).loose())
      .optional()
      .describe('mcp.resources_list: every resource the upstream servers list, before filtering'),
    prompts: z
      .array(z.object({ server: z.string(), prompt: z.string() }).loose())
      .optional()
      .describe('mcp.prompts_list: every prompt the upstream servers offer, before filtering'),
  })
  .describe('The action the agent attempts');

export const Context = z
  .object({
    surface: z.enum(['openai', 'anthropic', 'api', 'decision', 'mcp', 'sandbox']).optional().describe('Gatekeeper surface the action arrived on'),
    session_id: z.string().optional().describe('OAGF-Session header, else the MCP session (Mcp-Session-Id)'),
    mcp: z
      .object({
        session: z.string().optional().describe('Mcp-Session-Id (absent on the stateless 2026 revision)'),
        protocol_version: z.string().optional().describe('Negotiated MCP protocol revision'),
        client: z.object({ name: z.string(), version: z.string() }).loose().optional().describe('clientInfo the MCP client declared (not authenticated)'),
        endpoint: z.string().optional().describe('/mcp (aggregate) or /mcp/<server>'),
      })
      .loose()
      .optional()
      .describe('mcp surface: the MCP connection the action arrived on'),
    trace_id: z.string().optional().describe('W3C trace id (32 hex) of the request'),
    request_id: z.string().optional(),
    conversation: z
      .object({
        id: z.string().optional(),
        messages: z.number().int().nonnegative().optional().describe('Number of messages in the conversation so far'),
        digest: z.string().optional().describe('sha256:<hex> of the conversation payload in the ledger'),
      })
      .loose()
      .optional(),
  })
  .loose()
  .describe('Where the action happens');

export const Time = z
  .object({
    now: z.string().describe('RFC 3339 UTC timestamp of the decision'),
    unix_ms: z.number().int(),
    weekday: z.enum(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']).describe('UTC weekday'),
    hour: z.number().int().min(0).max(23).describe('UTC hour'),
    minute: z.number().int().min(0).max(59),
  })
  .describe('Decision time, precomputed so time-window rules replay deterministically');

export const SessionLabel = z
  .object({
    label: z.string().describe('e.g. private, untrusted, pii, secret'),
    source: z.string().describe('Where the data comes from, as the policy\'s `label` obligation named it (default: the tool, API route or URI)'),
  })
  .describe('A label a policy attached to an action\'s result (obligation `label`)');

export const SessionActionRef = z
  .object({
    id: z.string().describe('Decision record id of the earlier action'),
    index: z.number().int().nonnegative().describe('Its ledger index'),
    kind: z.string(),
    target: Target,
    agent: z.string(),
  })
  .describe('The earlier action a label or flow comes from');

export const SessionAction = z
  .object({
    index: z.number().int().nonnegative().describe('Ledger index of its decision record'),
    time_ms: z.number().int().describe('Decision time, epoch ms (compare with input.time.unix_ms)'),
    agent: z.string().describe('The agent that took it (one of the delegation tree sharing the session)'),
    kind: z.string(),
    target: Target,
    decision: z.enum(['allow', 'deny', 'escalate']).describe('What was decided (after approvals and budgets)'),
    outcome: z.enum(['completed', 'failed', 'released']).optional().describe('What came of it when carried out through the gatekeeper; absent while unknown'),
    status: z.number().int().optional().describe('http.request: upstream status'),
    amount: Amount.pick({ value: true, currency: true }).optional(),
    labels: z.array(SessionLabel).optional().describe('Labels the policy attached to its result'),
  })
  .describe('One earlier action of the session');

export const SessionTotal = z.object({ value: z.number(), count: z.number().int().nonnegative() });

export const SessionFlow = z
  .object({
    path: z.string().describe('Where the text is in this action: `arguments.<key>...`, `body.<key>...`, `query.<name>`, or `messages.<i>` for llm.request'),
    chars: z.number().int().positive().describe('Length of the longest normalised text this value shares with the earlier result'),
    labels: z.array(SessionLabel).describe("The earlier result's labels"),
    from: SessionActionRef,
  })
  .describe('Text of an earlier labelled result found in this action (fingerprint match: see src/sessions/README.md for its limits)');

export const Session = z
  .object({
    id: z.string().describe('Session key: the OAGF-Session / MCP session id (or "-" without one) and the root agent of the delegation chain'),
    digest: z.string().describe('sha256:<hex> of this action (the action digest of its ledger record)'),
    repeats: z
      .object({
        count: z.number().int().nonnegative().describe('Earlier actions with this digest (the same call)'),
        failed: z.number().int().nonnegative().describe('Of those, denied or failed when carried out'),
        last_failure: z.object({ id: z.string(), index: z.number().int().nonnegative() }).optional().describe('The latest of those failures'),
      })
      .describe('This very call made before in the session (loops)'),
    actions: z.array(SessionAction).describe('Earlier actions still kept (bounded, expiring), oldest first'),
    totals: z
      .record(z.string(), z.record(z.string(), SessionTotal))
      .describe('Per window (e.g. "1h") and currency: amounts of actions allowed and not failed, or completed after approval'),
    labels: z.array(SessionLabel.extend({ from: SessionActionRef })).describe('Labels in scope: each label and source once, from the latest earlier action whose result carried it (actions[].labels has every one)'),
    flows: z.array(SessionFlow).describe('Values of this action carrying text from a labelled earlier result'),
  })
  .describe('What the session did before this action (present when `sessions:` is configured)');

export const Input = z
  .object({
    version: z.literal('oagf/v1'),
    agent: Agent,
    action: Action,
    context: Context.default({}),
    budgets: InputBudgets.default({}),
    session: Session.optional(),
    time: Time,
  })
  .describe('OAGF v1 policy input document');

export type AgentIdentity = z.output<typeof Agent>;
export type OagfTarget = z.output<typeof Target>;
export type OagfAmount = z.output<typeof Amount>;
export type OagfAction = z.output<typeof Action>;
export type OagfContext = z.output<typeof Context>;
export type OagfTime = z.output<typeof Time>;
export type OagfInput = z.output<typeof Input>;
export type OagfSession = z.output<typeof Session>;
export type OagfSessionAction = z.output<typeof SessionAction>;

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export function timeOf(date: Date): OagfTime {
  return {
    now: date.toISOString(),
    unix_ms: date.getTime(),
    weekday: WEEKDAYS[date.getUTCDay()]!,
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
  };
}
