# OAGF standard library: MCP through the gatekeeper's /mcp surface.
#   mcp:
#     servers:
#       fs:
#         tools: ["read_*", "list_directory"]      allowed tools of this server (patterns; the global `tools` list also applies)
#         escalate_tools: [write_file]            allowed only with a human approval
#         resources: ["file:///srv/docs/*"]       resources/read and resources/subscribe (URI patterns)
#         prompts: ["*"]                          prompts/get
#     destructive: escalate                      tools not declared read-only whose destructiveHint is not false: escalate (default) | deny | allow
#     changed_definitions: escalate              a tool whose definition differs from its pin: escalate (default) | deny
#     max_result_bytes: 1048576                  larger results are withheld (the smallest value of all scopes wins)
# tools/list (mcp.tools_list) is allowed with a `hide_tools` obligation naming every tool the agent may not call
# and every tool whose definition changed since it was pinned: an agent never sees either (the sandbox's own tool,
# listed with action sandbox.exec, only to agents that may run code: `sandbox_languages` not empty). resources/list and
# prompts/list (mcp.resources_list, mcp.prompts_list) likewise hide what the agent may not read or get.
package oagf

mcp_kinds := {"mcp.tool_call", "mcp.tools_list", "mcp.resource_read", "mcp.resource_subscribe", "mcp.prompt_get", "mcp.resources_list", "mcp.prompts_list"}

# Union over the scopes of mcp.servers.<server>.<key>.
mcp_allow(server, key) := {p | some s in scopes; some p in object.get(object.get(object.get(object.get(s, "mcp", {}), "servers", {}), server, {}), key, [])}

# The narrowest scope that sets an MCP option decides it.
mcp_option(key, fallback) := value if {
	values := [v | some s in scopes; v := object.get(s, "mcp", {})[key]]
	count(values) > 0
	value := values[count(values) - 1]
} else := fallback

mcp_tool_permitted(_, tool) if tool_allowed(tool)

mcp_tool_permitted(server, tool) if {
	some p in mcp_allow(server, "tools") | mcp_allow(server, "escalate_tools")
	matches(p, tool)
}

# MCP's own defaults: a tool is destructive unless it says it is read-only or says destructiveHint: false.
mcp_destructive(annotations) if {
	not object.get(annotations, "readOnlyHint", false)
	object.get(annotations, "destructiveHint", true)
}

mcp_annotations := object.get(object.get(input.action, "tool", {}), "annotations", {})

mcp_changed if input.action.tool.definition.changed == true

deny contains msg if {
	input.action.kind == "mcp.tool_call"
	not mcp_tool_permitted(object.get(target, "server", ""), object.get(target, "tool", ""))
	msg := sprintf("MCP tool %s on server %s is not allowed for agent %s", [object.get(target, "tool", ""), object.get(target, "server", ""), input.agent.id])
}

escalate contains msg if {
	input.action.kind == "mcp.tool_call"
	some p in mcp_allow(object.get(target, "server", ""), "escalate_tools")
	matches(p, target.tool)
	msg := sprintf("MCP tool %s on server %s requires human approval", [target.tool, target.server])
}

mcp_destructive_reason := sprintf("MCP tool %s on server %s may change or destroy data (not declared read-only)", [target.tool, target.server])

escalate contains mcp_destructive_reason if {
	input.action.kind == "mcp.tool_call"
	mcp_destructive(mcp_annotations)
	mcp_option("destructive", "escalate") == "escalate"
}

deny contains mcp_destructive_reason if {
	input.action.kind == "mcp.tool_call"
	mcp_destructive(mcp_annotations)
	mcp_option("destructive", "escalate") == "deny"
}

mcp_changed_reason := sprintf("the definition of MCP tool %s on server %s changed since it was pinned (%s, now %s)", [
	target.tool, target.server, input.action.tool.definition.pinned_digest, input.action.tool.definition.digest,
])

escalate contains mcp_changed_reason if {
	input.action.kind == "mcp.tool_call"
	mcp_changed
	mcp_option("changed_definitions", "escalate") != "deny"
}

deny contains mcp_changed_reason if {
	input.action.kind == "mcp.tool_call"
	mcp_changed
	mcp_option("changed_definitions", "escalate") == "deny"
}

deny contains msg if {
	input.action.kind in {"mcp.resource_read", "mcp.resource_subscribe"}
	not mcp_matches_any(mcp_allow(object.get(target, "server", ""), "resources"), object.get(target, "uri", ""))
	msg := sprintf("MCP resource %s on server %s is not allowed for agent %s", [object.get(target, "uri", ""), object.get(target, "server", ""), input.agent.id])
}

deny contains msg if {
	input.action.kind == "mcp.prompt_get"
	not mcp_matches_any(mcp_allow(object.get(target, "server", ""), "prompts"), object.get(target, "prompt", ""))
	msg := sprintf("MCP prompt %s on server %s is not allowed for agent %s", [object.get(target, "prompt", ""), object.get(target, "server", ""), input.agent.id])
}

mcp_matches_any(patterns, value) if {
	some p in patterns
	matches(p, value)
}

# --- tools/list: what the agent may see ---

# Tools whose call is an mcp.tool_call (an upstream's); a listed tool with another `action` is judged as that action.
mcp_listed_upstream contains t if {
	input.action.kind == "mcp.tools_list"
	some t in object.get(input.action, "tools", [])
	object.get(t, "action", "mcp.tool_call") == "mcp.tool_call"
}

mcp_hidden contains {"server": t.server, "tool": t.tool, "reason": "not allowed"} if {
	some t in mcp_listed_upstream
	not mcp_tool_permitted(t.server, t.tool)
}

mcp_hidden contains {"server": t.server, "tool": t.tool, "reason": "definition changed since it was pinned"} if {
	input.action.kind == "mcp.tools_list"
	some t in object.get(input.action, "tools", [])
	mcp_tool_callable(t)
	t.definition.changed == true
}

mcp_tool_callable(t) if {
	object.get(t, "action", "mcp.tool_call") == "mcp.tool_call"
	mcp_tool_permitted(t.server, t.tool)
}

mcp_tool_callable(t) if {
	t.action == "sandbox.exec"
	sandbox_runs_code
}

mcp_hidden contains {"server": t.server, "tool": t.tool, "reason": "destructive tools are denied"} if {
	mcp_option("destructive", "escalate") == "deny"
	some t in mcp_listed_upstream
	mcp_destructive(object.get(t, "annotations", {}))
}

# The sandbox's tool (sandbox__run, judged as sandbox.exec) is seen by an agent that may run code in some language.
mcp_hidden contains {"server": t.server, "tool": t.tool, "reason": "the agent may not run code in the sandbox"} if {
	input.action.kind == "mcp.tools_list"
	some t in object.get(input.action, "tools", [])
	t.action == "sandbox.exec"
	not sandbox_runs_code
}

sandbox_runs_code if count(allowlist("sandbox_languages")) > 0

mcp_hide_tools := [{"type": "hide_tools", "tools": sort([h | some h in mcp_hidden])}] if count(mcp_hidden) > 0

default mcp_hide_tools := []

# --- resources/list and prompts/list: an agent sees only what it may read or get ---

mcp_hidden_resources contains {"server": r.server, "uri": r.uri} if {
	input.action.kind == "mcp.resources_list"
	some r in object.get(input.action, "resources", [])
	not mcp_matches_any(mcp_allow(r.server, "resources"), r.uri)
}

mcp_hidden_prompts contains {"server": p.server, "prompt": p.prompt} if {
	input.action.kind == "mcp.prompts_list"
	some p in object.get(input.action, "prompts", [])
	not mcp_matches_any(mcp_allow(p.server, "prompts"), p.prompt)
}

mcp_hide_resources := [{"type": "hide_resources", "resources": sort([h | some h in mcp_hidden_resources])}] if count(mcp_hidden_resources) > 0

default mcp_hide_resources := []

mcp_hide_prompts := [{"type": "hide_prompts", "prompts": sort([h | some h in mcp_hidden_prompts])}] if count(mcp_hidden_prompts) > 0

default mcp_hide_prompts := []

mcp_hide_obligations := array.concat(mcp_hide_tools, array.concat(mcp_hide_resources, mcp_hide_prompts))

# --- result size ---

mcp_result_limits := [n | some s in scopes; n := object.get(s, "mcp", {}).max_result_bytes]

mcp_limit_obligations := [{"type": "mcp.max_result_bytes", "bytes": min(mcp_result_limits)}] if {
	input.action.kind in {"mcp.tool_call", "mcp.resource_read", "mcp.prompt_get"}
	count(mcp_result_limits) > 0
}

default mcp_limit_obligations := []

mcp_obligations := array.concat(mcp_hide_obligations, mcp_limit_obligations)
