/**
 * What each content block of a Claude message is to the gatekeeper: an action the agent would carry out
 * (`tool_use`: decided before the agent sees it), a passive block (text, thinking, and the calls and results of
 * tools Anthropic ran itself — `server_tool_use`, `*_tool_result`, `mcp_tool_use` — which have already happened
 * and which no client executes), or a block of a type the gatekeeper does not know (withheld by default).
 *
 * A `tool_use` of a tool the request offered as one of Anthropic's client tools is decided as what it does: the
 * bash tool as `llm.shell_call`, computer use as `llm.computer_call`, the text editor as `llm.patch_call`, so the
 * standard library's rules for those kinds apply to Claude as they do to OpenAI's shell, computer and patch items.
 */
import { DEFAULT_JSON_LIMITS, parseStrictJson, type JsonLimits } from '../../json/strict.js';
import type { ProposedToolCall, UnknownItems } from '../../llm/tool-judge.js';

type Json = Record<string, unknown>;

export type BlockRole = { role: 'passive' } | { role: 'action'; call: ProposedToolCall };

const PASSIVE = new Set([
  'text',
  'thinking',
  'redacted_thinking',
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
  'mcp_tool_use',
  'mcp_tool_result',
  'container_upload',
]);

type ClientTool = 'bash' | 'computer' | 'text_editor';

/** Anthropic-defined tools the client executes, by the `type` they are offered with (e.g. `bash_20250124`). */
const CLIENT_TOOLS: [RegExp, ClientTool][] = [
  [/^bash_\d+$/, 'bash'],
  [/^computer_\d+$/, 'computer'],
  [/^text_editor_\d+$/, 'text_editor'],
];

/** The Anthropic client tools a request offers, by the name the model calls them with. */
export function offeredClientTools(request: Json): Map<string, ClientTool> {
  const offered = new Map<string, ClientTool>();
  for (const tool of Array.isArray(request.tools) ? (request.tools as Json[]) : []) {
    if (typeof tool?.type !== 'string' || typeof tool.name !== 'string') continue;
    const kind = CLIENT_TOOLS.find(([re]) => re.test(tool.type as string))?.[1];
    if (kind) offered.set(tool.name, kind);
  }
  return offered;
}

export class BlockClassifier {
  constructor(
    private readonly clientTools: Map<string, ClientTool> = new Map(),
    private readonly unknown: UnknownItems = 'withhold',
    private readonly limits: JsonLimits = DEFAULT_JSON_LIMITS,
  ) {}

  /** One content block of a response; `input` overrides the block's own (a streamed block's input is built from deltas). */
  block(block: Json, input?: { text: string }): BlockRole {
    const type = block.type;
    if (type === 'tool_use') return { role: 'action', call: this.toolUse(block, input) };
    if (typeof type === 'string' && PASSIVE.has(type)) return { role: 'passive' };
    return { role: 'action', call: this.unknownBlock(block) };
  }

  /** Streamed input of a client tool, read strictly (no duplicate keys): its fields become the action. */
  private parseStreamed(text: string): unknown {
    if (text === '') return {};
    try {
      return parseStrictJson(text, this.limits, 'tool input');
    } catch {
      return undefined;
    }
  }

  unknownBlock(block: Json): ProposedToolCall {
    const type = typeof block.type === 'string' ? block.type : String(block.type ?? '(none)');
    return {
      name: type,
      arguments: '',
      kind: 'llm.unknown_item',
      target: { type, path: '/v1/messages' },
      value: block,
      what: `the content block of unknown type ${JSON.stringify(type)}`,
      ...(this.unknown === 'withhold' ? { withhold: `the gatekeeper does not know content blocks of type ${JSON.stringify(type)} (llm.unknown_items: withhold)` } : {}),
    };
  }

  private toolUse(block: Json, streamed?: { text: string }): ProposedToolCall {
    const name = typeof block.name === 'string' ? block.name : '';
    const callId = typeof block.id === 'string' ? block.id : undefined;
    const withId = (c: ProposedToolCall): ProposedToolCall => (callId === undefined ? c : { ...c, callId });
    const kind = this.clientTools.get(name);
    if (kind === undefined) {
      // Streamed input is JSON text the policy parses strictly; a whole message's input is already a value.
      return withId(streamed ? { name, arguments: streamed.text } : { name, arguments: '', value: block.input ?? {} });
    }
    const input = streamed ? this.parseStreamed(streamed.text) : block.input;
    // Input that cannot be read one way only is judged as text, which the judge refuses to release.
    if (input === undefined) return withId({ name, arguments: streamed!.text });
    return withId(clientToolCall(kind, name, input));
  }
}


const str = (v: unknown): string => (typeof v === 'string' ? v : v == null ? '' : JSON.stringify(v));

function clientToolCall(kind: ClientTool, name: string, input: unknown): ProposedToolCall {
  const i = (input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {}) as Json;
  if (kind === 'bash') {
    const value: Json = { commands: typeof i.command === 'string' ? [i.command] : [] };
    if (i.restart === true) value.restart = true;
    return { name, arguments: '', kind: 'llm.shell_call', value, what: 'the shell command' };
  }
  if (kind === 'computer') {
    const { action, ...rest } = i;
    return { name, arguments: '', kind: 'llm.computer_call', value: { actions: [{ type: str(action), ...rest }], pending_safety_checks: [] }, what: 'the computer action' };
  }
  const path = str(i.path);
  const value: Json = { operation: EDITOR_OPERATIONS[str(i.command)] ?? str(i.command), path, command: str(i.command) };
  for (const key of ['file_text', 'old_str', 'new_str', 'insert_line', 'view_range'] as const) if (i[key] !== undefined) value[key] = i[key];
  return { name, arguments: '', kind: 'llm.patch_call', target: { tool: name, path }, value, what: `the edit of ${JSON.stringify(path)}` };
}

/** The text editor's commands as the patch operations the standard library knows. */
const EDITOR_OPERATIONS: Record<string, string> = {
  create: 'create_file',
  str_replace: 'update_file',
  insert: 'update_file',
  undo_edit: 'update_file',
  view: 'view_file',
};
