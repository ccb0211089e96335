/**
 * What each item of a model's output is to the gatekeeper: an action the agent would carry out (decided before
 * the agent sees it), a passive result (shown as it is), or something the gatekeeper does not know (withheld by
 * default: unknown means deny).
 *
 * Passive items are of two sorts. Text and state (`message`, `reasoning`, `compaction`, `*_output` items) ask the
 * agent to do nothing. Calls the provider executed itself (`web_search_call`, `file_search_call`,
 * `code_interpreter_call`, `image_generation_call`, `mcp_call`, `mcp_list_tools`, `program`, a hosted
 * `shell_call`, a server-side `tool_search_call`) have already happened when the agent sees them: withholding them
 * would change nothing in the world. What governs them is the `llm.request` decision, which saw the tools offered.
 * A hosted shell or a server-side tool search counts as passive only when the request offered that tool in its
 * hosted form: the item's own claim is not trusted, since the agent's harness decides what it runs locally.
 */
import type { ProposedToolCall, UnknownItems } from '../../llm/tool-judge.js';

type Json = Record<string, unknown>;

export type { UnknownItems };

/** What the `llm.request` offered, so an item's claim to have run on the provider's side can be checked. */
export interface OfferedTools {
  hostedShell: boolean;
  serverToolSearch: boolean;
}

export type ItemRole = { role: 'passive' } | { role: 'action'; call: ProposedToolCall };

const PASSIVE_RESPONSE_ITEMS = new Set([
  'message',
  'reasoning',
  'compaction',
  'additional_tools',
  'file_search_call',
  'web_search_call',
  'code_interpreter_call',
  'image_generation_call',
  'mcp_call',
  'mcp_list_tools',
  'mcp_approval_response',
  'program',
  'program_output',
  'tool_search_output',
  'function_call_output',
  'custom_tool_call_output',
  'computer_call_output',
  'local_shell_call_output',
  'shell_call_output',
  'apply_patch_call_output',
]);

/** The tools of a request body that run on the provider's side (see the module comment). */
export function offeredTools(request: Json): OfferedTools {
  const tools = Array.isArray(request.tools) ? (request.tools as Json[]) : [];
  const hosted = (t: Json) => {
    const env = t.environment as Json | null | undefined;
    return env != null && (env.type === 'container_auto' || env.type === 'container_reference');
  };
  return {
    hostedShell: tools.some((t) => t?.type === 'shell' && hosted(t)),
    serverToolSearch: tools.some((t) => t?.type === 'tool_search' && (t.execution ?? 'server') === 'server'),
  };
}

export class ItemClassifier {
  constructor(
    private readonly offered: OfferedTools = { hostedShell: false, serverToolSearch: false },
    private readonly unknown: UnknownItems = 'withhold',
  ) {}

  /** One Responses API output item. */
  responseItem(item: Json): ItemRole {
    const type = item.type;
    const callId = typeof item.call_id === 'string' ? item.call_id : undefined;
    const withId = <T extends ProposedToolCall>(c: T): T => (callId === undefined ? c : { ...c, callId });
    switch (type) {
      case 'function_call':
        return action(withId({ name: str(item.name), arguments: str(item.arguments), ...namespaced(item) }));
      case 'custom_tool_call':
        return action(withId({ name: str(item.name), arguments: str(item.input), freeform: true, ...namespaced(item) }));
      case 'local_shell_call':
        return action(withId(localShellCall(item)));
      case 'shell_call':
        if (this.offered.hostedShell && (item.environment as Json | null)?.type === 'container_reference') return PASSIVE;
        return action(withId(shellCall(item)));
      case 'computer_call':
        return action(withId(computerCall(item)));
      case 'apply_patch_call':
        return action(withId(patchCall(item)));
      case 'mcp_approval_request':
        // The agent's answer names the request by its id (`approval_request_id`).
        return action(typeof item.id === 'string' ? { ...mcpApprovalRequest(item), callId: item.id } : mcpApprovalRequest(item));
      case 'tool_search_call':
        if (this.offered.serverToolSearch && item.execution === 'server') return PASSIVE;
        return action(withId({ name: 'tool_search', arguments: '', value: item.arguments ?? {} }));
    }
    if (typeof type === 'string' && PASSIVE_RESPONSE_ITEMS.has(type)) return PASSIVE;
    return action(this.unknownItem(item, '/v1/responses'));
  }

  /** One entry of a chat completion message's `tool_calls`: always something the agent would act on. */
  chatToolCall(call: Json): ProposedToolCall {
    const id = typeof call.id === 'string' ? call.id : undefined;
    const withId = (c: ProposedToolCall): ProposedToolCall => (id === undefined ? c : { ...c, callId: id });
    const fn = call.function as Json | undefined;
    // OpenAI always sends `type`; some compatible servers leave it out of a plain function call.
    if (call.type === 'function' || (call.type === undefined && fn && call.custom === undefined)) {
      return withId({ name: str(fn?.name), arguments: str(fn?.arguments) });
    }
    if (call.type === 'custom') {
      const custom = (call.custom ?? {}) as Json;
      return withId({ name: str(custom.name), arguments: str(custom.input), freeform: true });
    }
    return withId(this.unknownItem(call, '/v1/chat/completions', 'tool call'));
  }

  /** An output the gatekeeper cannot say the meaning of: the policy sees it whole; withheld unless configured. */
  unknownItem(item: Json, path: string, noun = 'output item'): ProposedToolCall {
    const type = typeof item.type === 'string' ? item.type : String(item.type ?? '(none)');
    return {
      name: type,
      arguments: '',
      kind: 'llm.unknown_item',
      target: { type, path },
      value: item,
      what: `the ${noun} of unknown type ${JSON.stringify(type)}`,
      ...(this.unknown === 'withhold' ? { withhold: `the gatekeeper does not know ${noun}s of type ${JSON.stringify(type)} (llm.unknown_items: withhold)` } : {}),
    };
  }
}

const PASSIVE: ItemRole = { role: 'passive' };
const action = (call: ProposedToolCall): ItemRole => ({ role: 'action', call });
const str = (v: unknown): string => (typeof v === 'string' ? v : v == null ? '' : JSON.stringify(v));
const namespaced = (item: Json) => (typeof item.namespace === 'string' && item.namespace !== '' ? { target: { tool: str(item.name), namespace: item.namespace } } : {});

/** `local_shell_call`: one argv. `commands` holds it shell-quoted, so command rules read both shell tools alike. */
function localShellCall(item: Json): ProposedToolCall {
  const a = (item.action ?? {}) as Json;
  const argv = Array.isArray(a.command) ? a.command.map(str) : [];
  const value: Json = { commands: [argv.map(shellQuote).join(' ')], argv };
  for (const key of ['env', 'working_directory', 'user', 'timeout_ms'] as const) if (a[key] != null) value[key] = a[key];
  return { name: 'local_shell', arguments: '', kind: 'llm.shell_call', value, what: 'the shell command' };
}

/** `shell_call` run by the agent (a local environment): a list of shell command lines. */
function shellCall(item: Json): ProposedToolCall {
  const a = (item.action ?? {}) as Json;
  const value: Json = { commands: Array.isArray(a.commands) ? a.commands.map(str) : [] };
  for (const key of ['timeout_ms', 'max_output_length'] as const) if (a[key] != null) value[key] = a[key];
  if (item.environment != null) value.environment = item.environment;
  return { name: 'shell', arguments: '', kind: 'llm.shell_call', value, what: 'the shell command' };
}

/** `computer_call`: the UI actions (one `action`, or a batch in `actions`) and OpenAI's pending safety checks. */
function computerCall(item: Json): ProposedToolCall {
  const actions = Array.isArray(item.actions) ? item.actions : item.action != null ? [item.action] : [];
  const checks = Array.isArray(item.pending_safety_checks) ? item.pending_safety_checks : [];
  return { name: 'computer', arguments: '', kind: 'llm.computer_call', value: { actions, pending_safety_checks: checks }, what: 'the computer action' };
}

/** `apply_patch_call`: one file operation; its path is the target. */
function patchCall(item: Json): ProposedToolCall {
  const op = (item.operation ?? {}) as Json;
  const path = str(op.path);
  const value: Json = { operation: str(op.type), path };
  if (typeof op.diff === 'string') value.diff = op.diff;
  return { name: 'apply_patch', arguments: '', kind: 'llm.patch_call', target: { tool: 'apply_patch', path }, value, what: `the patch to ${JSON.stringify(path)}` };
}

/**
 * `mcp_approval_request`: the provider asks the agent to approve a call to a remote MCP server's tool, which it
 * then carries out. Releasing the request lets the agent approve it; a withheld one is never answered.
 */
function mcpApprovalRequest(item: Json): ProposedToolCall {
  const server = str(item.server_label);
  const name = str(item.name);
  return {
    name,
    arguments: str(item.arguments),
    kind: 'llm.mcp_approval',
    target: { server, tool: name },
    what: `the request to approve MCP tool ${JSON.stringify(name)} on server ${JSON.stringify(server)}`,
  };
}

/** POSIX shell quoting: words of safe characters as they are, anything else in single quotes. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
